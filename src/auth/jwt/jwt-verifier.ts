import { createLocalJWKSet, type CompactJWSHeaderParameters, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { BackgroundRetry } from '../../lib/background-retry.js';
import { checkIssuerAndAudience } from '../issuer-audience-check.js';
import { ASYMMETRIC_ALGORITHMS } from '../jws-algorithms.js';
import { MAX_TOKEN_LENGTH } from '../token-limits.js';
import { principalFromClaims } from '../claims-principal.js';
import { discoverIssuer, DiscoveryError, DEFAULT_DISCOVERY_TIMEOUT_MS } from './discovery.js';
import { translateJoseError } from './jose-error-translation.js';
import { inspectJwsHeader, normalizeMediaType } from './jws-header.js';
import type { TokenVerifier } from '../token-verifier.js';
import { createRemoteKeySet, type RemoteKeySet } from './remote-key-set.js';
import type { Metrics } from '../../lib/metrics.js';
import { withMappedScopes, type ScopeMapper } from '../scope-map.js';
import { AuthServiceUnavailableError, TokenError } from '../token-error.js';
import { checkJwtClaims, type JwtClaimsPolicy } from './jwt-claims.js';
import { UnusableKeyError, verifyJwsSignature } from './jws-signature.js';
import { checkNonNegative } from '../../lib/option-checks.js';

export { ASYMMETRIC_ALGORITHMS };

/** Default accepted algorithms. */
export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(ASYMMETRIC_ALGORITHMS.filter((alg) => alg !== 'Ed25519'));

/** Default accepted `typ` header values (RFC 9068 §2.1). */
export const DEFAULT_TOKEN_TYPES: readonly string[] = Object.freeze(['at+jwt', 'application/at+jwt']);

/** Default claims that must be present, besides what the issuer and audience checks imply. */
export const DEFAULT_REQUIRED_CLAIMS: readonly string[] = Object.freeze(['iss', 'exp', 'aud']);

/** Options for {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** Expected `iss`, compared exactly; also where metadata is discovered (RFC 8414 §3). */
  issuer: string;
  /** This resource server's identifier; the token's `aud` must contain it (or one of them, given a list). */
  audience: string | readonly string[];
  /** Key set URL. Default: the `jwks_uri` from the issuer's discovered metadata. */
  jwksUri?: string;
  /** A local key set used instead of fetching one (the development issuer). Takes precedence over `jwksUri`. */
  keys?: JSONWebKeySet;
  /**
   * Accepted `alg` values; asymmetric only (see {@link ASYMMETRIC_ALGORITHMS}).
   * Default: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA.
   */
  algorithms?: string[];
  /**
   * Accepted `typ` header values, compared case-insensitively with or without the `application/`
   * prefix (RFC 8725 §3.11). Default: `at+jwt` (RFC 9068 §4).
   */
  tokenTypes?: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default: 30. */
  clockToleranceSec?: number;
  /**
   * Tokens whose `iat` is longer ago than this (plus the leeway) are refused (`too_old`), and a
   * token without `iat` is refused (`missing_claim`); jose's `maxTokenAge`. In seconds. Default:
   * none (an `iat` later than now plus the leeway is refused either way: `issued_in_future`).
   */
  maxTokenAgeSec?: number;
  /** Claims that must be present. Default: `iss`, `exp`, `aud`. */
  requiredClaims?: string[];
  /** Timeout for each metadata request, in milliseconds. Default: 5000. */
  discoveryTimeoutMs?: number;
  /** Timeout for each key set request, in milliseconds. Default: 5000. */
  jwksTimeoutMs?: number;
  /**
   * Minimum time between key set fetches, in milliseconds (an unknown `kid` refetches at most this
   * often; a failed fetch is not retried sooner). Default: 30000.
   */
  jwksCooldownMs?: number;
  /** Age after which cached keys are refreshed, in milliseconds. Default: 600000 (10 minutes). */
  jwksCacheMaxAgeMs?: number;
  /** First delay before retrying failed discovery or key loading, in milliseconds; doubles per failure (± 20 %). Default: 1000. */
  retryInitialDelayMs?: number;
  /** Upper bound on the retry delay, in milliseconds. Default: 60000. */
  retryMaxDelayMs?: number;
  /** fetch implementation for metadata and keys. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock for `exp`/`nbf` and `iat`. Default: `() => new Date()`. */
  currentDate?: () => Date;
  /** Maps the issuer's scope names onto this API's (see {@link ScopeMapper}). Default: none. */
  scopeMap?: ScopeMapper;
  /** Counts key set fetches. Default: {@link NO_METRICS}. */
  metrics?: Metrics;
}

/**
 * Creates a verifier. It verifies every token it is given (signature, header and claims) and
 * remembers none: the one verified-token cache is the issuer router's (`createIssuerRouter`),
 * which answers a repeated token before it reaches a verifier. With `keys` it is ready at once; otherwise it starts discovering the issuer and
 * loading its keys immediately, and on failure keeps retrying in the background with exponential
 * backoff (timers do not keep the process alive) until it succeeds or is closed.
 *
 * @throws {TypeError} on invalid options (for example an HMAC or `none` algorithm).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const settings = validateOptions(options);
  const now = options.currentDate ?? (() => new Date());

  let getKey: JWTVerifyGetKey | undefined = options.keys ? createLocalJWKSet(options.keys) : undefined;
  let lastError: AuthServiceUnavailableError | undefined;
  let pending: Promise<void> | undefined;
  let keySet: RemoteKeySet | undefined;
  let closed = false;

  const loadKeys = async (): Promise<JWTVerifyGetKey> => {
    let jwksUri = options.jwksUri;
    if (jwksUri === undefined) {
      try {
        const metadata = await discoverIssuer(options.issuer, {
          timeoutMs: options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        jwksUri = metadata.jwks_uri;
      } catch (error) {
        const message = error instanceof DiscoveryError ? error.message : `metadata discovery for ${options.issuer} failed`;
        throw new AuthServiceUnavailableError('discovery_failed', message, { cause: error });
      }
    }
    const created = createRemoteKeySet(new URL(jwksUri), {
      ...(options.jwksTimeoutMs !== undefined ? { timeoutMs: options.jwksTimeoutMs } : {}),
      ...(options.jwksCooldownMs !== undefined ? { cooldownMs: options.jwksCooldownMs } : {}),
      ...(options.jwksCacheMaxAgeMs !== undefined ? { cacheMaxAgeMs: options.jwksCacheMaxAgeMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.metrics ? { onFetch: (outcome: 'ok' | 'failed') => options.metrics?.jwksFetch(options.issuer, outcome) } : {}),
    });
    try {
      await created.load();
    } catch (error) {
      created.close();
      throw error;
    }
    keySet = created;
    if (closed) created.close();
    return created.getKey;
  };

  const initialize = (): Promise<void> => {
    if (getKey !== undefined) return Promise.resolve();
    pending ??= loadKeys()
      .then(
        (loaded) => {
          getKey = loaded;
          lastError = undefined;
          retry.succeeded();
        },
        (error: unknown) => {
          lastError =
            error instanceof AuthServiceUnavailableError
              ? error
              : new AuthServiceUnavailableError('jwks_unavailable', 'key loading failed', { cause: error });
          retry.failed();
          throw lastError;
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const retry = new BackgroundRetry(initialize, { initialDelayMs: options.retryInitialDelayMs ?? 1000, maxDelayMs: options.retryMaxDelayMs ?? 60_000 });

  const keysForVerification = async (): Promise<JWTVerifyGetKey> => {
    if (getKey !== undefined) return getKey;
    // Wait for the very first attempt at start-up; after a failure, answer at once instead of
    // holding requests for as long as an unreachable server takes to time out.
    if (lastError === undefined && pending !== undefined) await pending;
    if (getKey !== undefined) return getKey;
    throw lastError ?? new AuthServiceUnavailableError('jwks_unavailable', 'keys not loaded');
  };

  if (getKey === undefined) initialize().catch(() => undefined);

  // Built once: only the clock changes between verifications.
  const claimsPolicy: JwtClaimsPolicy = Object.freeze({
    issuer: options.issuer,
    audiences: Object.freeze(typeof options.audience === 'string' ? [options.audience] : [...options.audience]),
    requiredClaims: Object.freeze([...settings.requiredClaims]),
    toleranceSec: settings.clockToleranceSec,
    maxTokenAgeSec: settings.maxTokenAgeSec,
  });

  return {
    // RFC 7515 §5.2 and RFC 7519 §7.2, in jose's order: header checks, key, signature, claims.
    // jose picks the key (kid, alg, use, key_ops, curve); node:crypto checks the signature off
    // the event loop (see verifyJwsSignature); checkJwtClaims checks the claims as jose did.
    async verify(token) {
      // Size first: nothing is computed over an oversized input.
      if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');
      const jws = inspectJwsHeader(token, settings);
      const alg = jws.header['alg'] as string;
      const getKeyFor = getKey ?? (await keysForVerification());
      let valid: boolean;
      try {
        // The header is a JSON object with a string alg (inspectJwsHeader); jose checks the rest of what it reads.
        const key = await getKeyFor(jws.header as CompactJWSHeaderParameters, { payload: jws.encodedPayload, signature: jws.encodedSignature, protected: jws.encodedHeader });
        valid = await verifyJwsSignature(alg, key, jws.signingInput, jws.encodedSignature);
      } catch (error) {
        // A key of the wrong type or size for the token's alg verifies nothing; jose called it malformed too.
        if (error instanceof UnusableKeyError) throw new TokenError('malformed', { cause: error });
        throw translateJoseError(error);
      }
      if (!valid) throw new TokenError('bad_signature');
      const payload = checkJwtClaims(jws.encodedPayload, claimsPolicy, Math.floor(now().getTime() / 1000));
      return withMappedScopes(principalFromClaims(payload, options.issuer), options.scopeMap);
    },
    ready: initialize,
    status() {
      if (getKey !== undefined) {
        // Keys obtained before are still used while refreshing them fails: ready, and saying why not fully.
        const failing = keySet?.failing();
        return failing === undefined ? { ready: true } : { ready: true, degraded: failing };
      }
      return { ready: false, reason: lastError?.message ?? 'discovering the issuer and loading its keys' };
    },
    close() {
      closed = true;
      retry.stop();
      keySet?.close();
    },
  };
}

interface Settings {
  algorithms: ReadonlySet<string>;
  tokenTypes: ReadonlySet<string>;
  clockToleranceSec: number;
  maxTokenAgeSec: number | undefined;
  requiredClaims: string[];
}

function validateOptions(options: TokenVerifierOptions): Settings {
  checkIssuerAndAudience(options);
  if (options.jwksUri !== undefined && options.keys === undefined) {
    try {
      new URL(options.jwksUri);
    } catch {
      throw new TypeError('jwksUri must be an absolute URL');
    }
  }

  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  const refused = algorithms.filter((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new TypeError(`algorithms must be a non-empty list of asymmetric JWS algorithms; refused: ${refused.join(', ') || '(empty list)'}`);
  }

  const tokenTypes = options.tokenTypes ?? DEFAULT_TOKEN_TYPES;
  if (tokenTypes.length === 0) throw new TypeError('tokenTypes must not be empty');

  const clockToleranceSec = options.clockToleranceSec ?? 30;
  checkNonNegative({ clockToleranceSec });
  const maxTokenAgeSec = options.maxTokenAgeSec;
  if (maxTokenAgeSec !== undefined && (!Number.isFinite(maxTokenAgeSec) || maxTokenAgeSec <= 0)) throw new TypeError('maxTokenAgeSec must be a positive number');

  checkNonNegative(
    {
      discoveryTimeoutMs: options.discoveryTimeoutMs,
      jwksTimeoutMs: options.jwksTimeoutMs,
      jwksCooldownMs: options.jwksCooldownMs,
      jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs,
      retryInitialDelayMs: options.retryInitialDelayMs,
      retryMaxDelayMs: options.retryMaxDelayMs,
    },
    'integer',
  );

  return {
    algorithms: new Set(algorithms),
    tokenTypes: new Set(tokenTypes.map(normalizeMediaType)),
    clockToleranceSec,
    maxTokenAgeSec,
    requiredClaims: [...(options.requiredClaims ?? DEFAULT_REQUIRED_CLAIMS)],
  };
}
