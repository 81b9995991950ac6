/**
 * Who is calling. Built once per request from a verified token and never mutated.
 *
 * - `anonymous`: no token was presented; may read public fields only.
 * - `user`: a token issued to a client acting for an end user (`sub` is the user).
 * - `client`: a client acting for itself (client credentials): `sub` equals `client_id`,
 *   or there is no `sub` (RFC 9068 §2.2).
 */
export type Principal = AnonymousPrincipal | UserPrincipal | ClientPrincipal;

export interface AnonymousPrincipal {
  readonly kind: 'anonymous';
  readonly scopes: ReadonlySet<string>;
}

interface TokenPrincipal {
  /** `iss` of the verified token. */
  readonly issuer: string;
  /** `client_id` (or `azp`/`cid` for providers that name it differently); may be undefined. */
  readonly clientId: string | undefined;
  /** Granted scopes, exact strings. */
  readonly scopes: ReadonlySet<string>;
  /** `aud` of the token, always as a list. */
  readonly audience: readonly string[];
  /** Token expiry, seconds since the epoch (undefined when the token has none). */
  readonly expiresAt: number | undefined;
  /** `iat` of the token, seconds since the epoch; absent when the token has none. */
  readonly issuedAt?: number;
  /** `jti` when present. */
  readonly tokenId: string | undefined;
  /** `acr` and `auth_time` when present (RFC 9068 §2.2.1). */
  readonly acr: string | undefined;
  readonly authTime: number | undefined;
  /** Display name claims (`name`, falling back to `preferred_username`). */
  readonly name: string | undefined;
  /**
   * `cnf.jkt` (RFC 9449 §6.1): the SHA-256 JWK thumbprint of the key the token is bound to. Present
   * only for DPoP-bound tokens, which are accepted only with a matching DPoP proof.
   */
  readonly confirmationJkt?: string;
}

export interface UserPrincipal extends TokenPrincipal {
  readonly kind: 'user';
  /** `sub`: the end user, unique within `issuer`. */
  readonly subject: string;
}

export interface ClientPrincipal extends TokenPrincipal {
  readonly kind: 'client';
  /** `sub` when present (equal to clientId), otherwise the client id. */
  readonly subject: string;
}

export const ANONYMOUS: AnonymousPrincipal = Object.freeze({ kind: 'anonymous', scopes: new Set<string>() });
