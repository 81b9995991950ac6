import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { checkIssuerAndAudience } from '../issuer-audience-check.js';
import type { Logger } from '../../logger.js';
import { MAX_TOKEN_LENGTH } from '../token-limits.js';
import { clientIdOf, principalFromClaims } from '../claims-principal.js';
import { discoverIssuer, DEFAULT_DISCOVERY_TIMEOUT_MS } from '../jwt/discovery.js';
import { introspectToken } from './introspection-client.js';
import { createMemorySharedCache } from '../cache/memory-shared-cache.js';
import { withMappedScopes, type ScopeMapper } from '../scope-map.js';
import type { SharedCache } from '../cache/shared-cache.js';
import { BackgroundRetry } from '../../lib/background-retry.js';
import { SingleFlight } from './single-flight.js';
import { NO_METRICS, type Metrics } from '../../lib/metrics.js';
import { inSpan } from '../../lib/tracing.js';
import { AuthServiceUnavailableError, TokenError, withTokenContext, type TokenErrorContext } from '../token-error.js';
import { checkTokenTimes } from '../token-times.js';
import type { TokenVerifier } from '../token-verifier.js';
import { checkNonNegative } from '../../lib/option-checks.js';

/** Options for {@link createIntrospectionVerifier}. */
export interface IntrospectionVerifierOptions {
  /** The authorization server's issuer: a response's `iss`, when present, must equal it; metadata is discovered from it. */
  issuer: string;
  /** This resource server's identifier; a response's `aud` must contain it (or one of them). */
  audience: string | readonly string[];
  /** Introspection endpoint. Default: `introspection_endpoint` from the issuer's discovered metadata. */
  endpoint?: string;
  /** Client id for client_secret_basic authentication at the endpoint. */
  clientId: string;
  /** Client secret; also keys the integrity check of cached results. Never logged. */
  clientSecret: string;
  /** Timeout of each introspection request, in milliseconds. Default: 5000. */
  timeoutMs?: number;
  /** Where results are cached (shared between replicas when it is Redis). Default: in memory. */
  cache?: SharedCache;
  /** Longest time an active result is cached, in seconds (never past the token's `exp`); 0 disables. Default: 60. */
  cacheTtlSec?: number;
  /** How long an inactive result is cached, in seconds; 0 disables. Default: 10. */
  inactiveCacheTtlSec?: number;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default: 30. */
  clockToleranceSec?: number;
  /**
   * Answers whose `iat` is longer ago than this (plus the leeway) are refused (`too_old`), and
   * answers without `iat` are refused (`missing_claim`), cached or not. In seconds. Default: none.
   */
  maxTokenAgeSec?: number;
  /** Maps the issuer's scope names onto this API's. Default: none. */
  scopeMap?: ScopeMapper;
  /** Timeout for metadata discovery, in milliseconds. Default: 5000. */
  discoveryTimeoutMs?: number;
  /**
   * Minimum time between discovery attempts after a failure, in milliseconds; failed discovery is
   * also retried in the background, the delay doubling per failure up to 60 s (± 20 %). Default: 5000.
   */
  discoveryRetryMs?: number;
  /** fetch implementation for discovery and introspection. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock. Default: `() => new Date()`. */
  currentDate?: () => Date;
  /** Where tampered or unreadable cache entries are reported. Default: nowhere. */
  log?: Logger;
  /** Counts introspection requests, their failures and cache hits. Default: {@link NO_METRICS}. */
  metrics?: Metrics;
}

/** Default bound on how long an active introspection result is cached, in seconds. */
export const DEFAULT_INTROSPECTION_CACHE_TTL_SEC = 60;
/** Default time an inactive introspection result is cached, in seconds. */
export const DEFAULT_INACTIVE_CACHE_TTL_SEC = 10;

/**
 * Response members kept (and cached): what the checks and the principal use. Everything else an
 * authorization server adds is dropped, so nothing unexpected is stored in a shared cache.
 */
const KEPT_MEMBERS = [
  'active', 'scope', 'scp', 'client_id', 'azp', 'cid', 'username', 'token_type', 'exp', 'iat', 'nbf',
  'sub', 'aud', 'iss', 'jti', 'acr', 'auth_time', 'name', 'preferred_username', 'cnf',
] as const;

/** `token_type` values (RFC 7662 §2.2, compared case-insensitively) of access tokens. */
const ACCESS_TOKEN_TYPES = new Set(['bearer', 'dpop', 'access_token', 'urn:ietf:params:oauth:token-type:access_token']);

const CACHE_NAMESPACE = 'introspection:';

/**
 * Verifies tokens by asking the authorization server (RFC 7662), typically opaque ones. An active
 * answer is checked like a JWT's claims — `exp`/`nbf` (with leeway), `aud` contains the audience,
 * `iss` equals the issuer when present, `token_type` an access token's when present, `scope` a
 * string — and becomes a principal exactly as JWT claims do.
 *
 * Answers are cached under the token's SHA-256 (never the token), with an HMAC keyed by the
 * client secret so that an entry written by anyone else is ignored: active ones for at most
 * `cacheTtlSec` and never past `exp`, inactive ones for `inactiveCacheTtlSec`. Concurrent
 * verifications of one token make one request. The endpoint failing in any way is an
 * {@link AuthServiceUnavailableError} (503): never anonymous, never valid.
 *
 * @throws {TypeError} on invalid options.
 */
export function createIntrospectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  const audiences = validate(options);
  const now = options.currentDate ?? (() => new Date());
  const cache = options.cache ?? createMemorySharedCache();
  const ownsCache = options.cache === undefined;
  const cacheTtlSec = options.cacheTtlSec ?? DEFAULT_INTROSPECTION_CACHE_TTL_SEC;
  const inactiveTtlSec = options.inactiveCacheTtlSec ?? DEFAULT_INACTIVE_CACHE_TTL_SEC;
  const toleranceSec = options.clockToleranceSec ?? 30;
  const retryMs = options.discoveryRetryMs ?? 5000;
  const macKey = createHmac('sha256', options.clientSecret).update('introspection-cache-v1').digest();
  const flights = new SingleFlight<Record<string, unknown>>();
  const metrics = options.metrics ?? NO_METRICS;

  let endpoint = options.endpoint;
  let discovering: Promise<string> | undefined;
  let lastFailure: { error: AuthServiceUnavailableError; at: number } | undefined;
  // The last introspection request's failure, until one succeeds (for readiness: degraded).
  let lastIntrospectionFailure: string | undefined;
  // Readiness must recover without traffic (a pod that is not ready gets none), so failed
  // discovery is retried in the background. The retry bypasses the throttle below (see BackgroundRetry).
  const backgroundRetry = new BackgroundRetry(() => resolveEndpoint({ retry: true }), { initialDelayMs: retryMs, maxDelayMs: 60_000 });

  // Requests within `retryMs` of a failure get that failure again; the background retry always tries.
  const resolveEndpoint = async ({ retry = false } = {}): Promise<string> => {
    if (endpoint !== undefined) return endpoint;
    if (!retry && lastFailure !== undefined && Date.now() - lastFailure.at < retryMs) throw lastFailure.error;
    discovering ??= discoverIssuer(options.issuer, {
      timeoutMs: options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
      .then((metadata) => {
        if (metadata.introspection_endpoint === undefined) {
          throw new AuthServiceUnavailableError('discovery_failed', `metadata of ${options.issuer} has no introspection_endpoint`);
        }
        endpoint = metadata.introspection_endpoint;
        lastFailure = undefined;
        backgroundRetry.succeeded();
        return endpoint;
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof AuthServiceUnavailableError
            ? error
            : new AuthServiceUnavailableError('discovery_failed', error instanceof Error ? error.message : `metadata discovery for ${options.issuer} failed`, { cause: error });
        lastFailure = { error: failure, at: Date.now() };
        backgroundRetry.failed();
        throw failure;
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  };

  const readCache = async (key: string): Promise<Record<string, unknown> | undefined> => {
    let stored: string | undefined;
    try {
      stored = await cache.get(key);
    } catch {
      return undefined; // SharedCache promises not to throw; a miss if one does anyway.
    }
    if (stored === undefined) return undefined;
    const dot = stored.indexOf('.');
    const json = stored.slice(dot + 1);
    const expected = mac(macKey, key, json);
    const given = Buffer.from(stored.slice(0, Math.max(dot, 0)), 'base64url');
    if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      options.log?.warn({ event: 'auth.introspection_cache_rejected' }, 'ignoring a cached introspection result that fails its integrity check');
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(json);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && typeof (parsed as { active?: unknown }).active === 'boolean'
        ? (parsed as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };

  const writeCache = async (key: string, result: Record<string, unknown>): Promise<void> => {
    const nowMs = now().getTime();
    let ttlMs = (result['active'] === true ? cacheTtlSec : inactiveTtlSec) * 1000;
    const exp = result['exp'];
    if (result['active'] === true && typeof exp === 'number') ttlMs = Math.min(ttlMs, exp * 1000 - nowMs);
    ttlMs = Math.floor(ttlMs);
    if (ttlMs < 1) return;
    const json = JSON.stringify(result);
    try {
      await cache.set(key, `${mac(macKey, key, json).toString('base64url')}.${json}`, ttlMs);
    } catch {
      // SharedCache promises not to throw; caching is an optimisation only.
    }
  };

  const lookUp = (token: string): Promise<Record<string, unknown>> => {
    const key = `${CACHE_NAMESPACE}${createHash('sha256').update(token).digest('base64url')}`;
    return flights.run(key, async () => {
      const cached = await readCache(key);
      if (cached !== undefined) {
        metrics.introspection(options.issuer, 'cache_hit');
        return cached;
      }
      const target = await resolveEndpoint();
      let answer: Record<string, unknown>;
      try {
        answer = await inSpan('introspection', { 'oauth.issuer': options.issuer }, () =>
          introspectToken(token, {
          endpoint: target,
          clientId: options.clientId,
          clientSecret: options.clientSecret,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
          }),
        );
      } catch (error) {
        metrics.introspection(options.issuer, 'failed');
        if (error instanceof AuthServiceUnavailableError) lastIntrospectionFailure = error.message;
        throw error;
      }
      lastIntrospectionFailure = undefined;
      metrics.introspection(options.issuer, answer['active'] === true ? 'active' : 'inactive');
      const result = keptMembers(answer);
      await writeCache(key, result);
      return result;
    });
  };

  if (endpoint === undefined) resolveEndpoint().catch(() => undefined);

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0) throw new TokenError('malformed');
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');
      const result = await lookUp(token);
      if (result['active'] !== true) throw new TokenError('inactive', { issuer: options.issuer });
      const context: TokenErrorContext = {
        issuer: typeof result['iss'] === 'string' ? result['iss'] : options.issuer,
        clientId: clientIdOf(result),
        subject: stringMember(result, 'sub'),
      };
      try {
        check(result, { issuer: options.issuer, audiences, nowSec: now().getTime() / 1000, toleranceSec, maxTokenAgeSec: options.maxTokenAgeSec });
        return withMappedScopes(principalFromClaims(result, options.issuer), options.scopeMap);
      } catch (error) {
        throw withTokenContext(error, context);
      }
    },
    async ready() {
      await resolveEndpoint();
    },
    status() {
      if (endpoint !== undefined) return lastIntrospectionFailure === undefined ? { ready: true } : { ready: true, degraded: lastIntrospectionFailure };
      return { ready: false, reason: lastFailure?.error.message ?? `discovering the introspection endpoint of ${options.issuer}` };
    },
    close() {
      backgroundRetry.stop();
      if (ownsCache) cache.close().catch(() => undefined);
    },
  };
}

/** RFC 7662 §2.2 members of an active answer, checked like RFC 9068 §4 checks a JWT's claims. */
function check(
  result: Readonly<Record<string, unknown>>,
  expected: { issuer: string; audiences: readonly string[]; nowSec: number; toleranceSec: number; maxTokenAgeSec: number | undefined },
): void {
  const { exp, nbf, iss, aud, scope, token_type: tokenType } = result;
  // `iat` may not lie ahead, nor (with a maximum age) too far back; no date beyond any Date's.
  checkTokenTimes(result, expected);
  if (exp !== undefined) {
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new TokenError('invalid_claim');
    if (expected.nowSec >= exp + expected.toleranceSec) throw new TokenError('expired');
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw new TokenError('invalid_claim');
    if (nbf > expected.nowSec + expected.toleranceSec) throw new TokenError('not_yet_valid');
  }
  if (iss !== undefined && iss !== expected.issuer) throw new TokenError('wrong_issuer');
  if (aud === undefined) throw new TokenError('missing_claim');
  const granted = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (granted === undefined) throw new TokenError('invalid_claim');
  if (!expected.audiences.some((audience) => granted.includes(audience))) throw new TokenError('wrong_audience');
  if (scope !== undefined && typeof scope !== 'string') throw new TokenError('invalid_claim');
  // A refresh token is "active" too; only access tokens are accepted here.
  if (tokenType !== undefined && (typeof tokenType !== 'string' || !ACCESS_TOKEN_TYPES.has(tokenType.toLowerCase()))) throw new TokenError('wrong_type');
}

function keptMembers(answer: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (answer['active'] !== true) return { active: false };
  const kept: Record<string, unknown> = {};
  for (const name of KEPT_MEMBERS) if (answer[name] !== undefined) kept[name] = answer[name];
  return kept;
}

function mac(key: Buffer, cacheKey: string, json: string): Buffer {
  return createHmac('sha256', key).update(cacheKey).update('\n').update(json).digest();
}

function stringMember(result: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = result[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function validate(options: IntrospectionVerifierOptions): readonly string[] {
  const audiences = checkIssuerAndAudience(options);
  if (options.endpoint !== undefined) {
    try {
      new URL(options.endpoint);
    } catch {
      throw new TypeError('endpoint must be an absolute URL');
    }
  }
  if (typeof options.clientId !== 'string' || options.clientId.length === 0) throw new TypeError('clientId must be a non-empty string');
  if (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0) throw new TypeError('clientSecret must be a non-empty string');
  checkNonNegative({
    timeoutMs: options.timeoutMs,
    cacheTtlSec: options.cacheTtlSec,
    inactiveCacheTtlSec: options.inactiveCacheTtlSec,
    clockToleranceSec: options.clockToleranceSec,
    maxTokenAgeSec: options.maxTokenAgeSec,
    discoveryTimeoutMs: options.discoveryTimeoutMs,
    discoveryRetryMs: options.discoveryRetryMs,
  });
  if (options.maxTokenAgeSec === 0) throw new TypeError('maxTokenAgeSec must be a positive number');
  return audiences;
}
