import type { ClientPrincipal, UserPrincipal } from './principal.js';

/** Whether tokens can be verified now, and if not, why (for operators: readiness probes, logs). */
export interface TokenVerifierStatus {
  ready: boolean;
  reason?: string;
  /**
   * Ready, but something is failing that will matter if it lasts: refreshing the signing keys
   * (the authorization server is unreachable; keys obtained before are still used).
   */
  degraded?: string;
  /** Per trusted issuer, when the verifier serves several (see `createIssuerRouter`). */
  issuers?: readonly IssuerStatus[];
}

/** Readiness of one trusted issuer. */
export interface IssuerStatus {
  readonly issuer: string;
  readonly ready: boolean;
  readonly reason?: string;
  /** See {@link TokenVerifierStatus.degraded}. */
  readonly degraded?: string;
}

/**
 * Verifies access tokens and says who they identify. `createTokenVerifier` (jwt/) verifies JWTs
 * (RFC 9068) from one issuer; `createIntrospectionVerifier` asks an introspection endpoint
 * (RFC 7662); `createIssuerRouter` composes them for several issuers.
 */
export interface TokenVerifier {
  /**
   * Verifies a bearer token and returns who it identifies.
   * @throws {TokenError} the token is not acceptable (answer 401 invalid_token).
   * @throws {AuthServiceUnavailableError} keys cannot be obtained and none are cached (answer 503).
   */
  verify(token: string): Promise<UserPrincipal | ClientPrincipal>;
  /**
   * Resolves once metadata is discovered and keys are loaded; when they are not, tries now.
   * @throws {AuthServiceUnavailableError} with `reason` `discovery_failed` or `jwks_unavailable`.
   */
  ready(): Promise<void>;
  status(): TokenVerifierStatus;
  /** Stops background retries and empties the cache. */
  close(): void;
}
