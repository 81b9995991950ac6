import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { BackgroundRetry } from '../../lib/background-retry.js';
import { AuthServiceUnavailableError } from '../token-error.js';

/** Options for {@link createRemoteKeySet}. */
export interface RemoteKeySetOptions {
  /** Timeout for each key set request, in milliseconds. Default: 5000. */
  timeoutMs?: number;
  /**
   * Minimum time between two fetches, in milliseconds: after a successful fetch an unknown `kid`
   * does not trigger another one sooner (so tokens with random `kid`s cannot flood the
   * authorization server), and after a failed fetch none is attempted sooner. Default: 30000.
   */
  cooldownMs?: number;
  /** Age after which cached keys are refreshed, in milliseconds. Default: 600000 (10 minutes). */
  cacheMaxAgeMs?: number;
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Called after each request for the key set (not for one skipped by a cooldown): whether it returned a key set. */
  onFetch?: (outcome: 'ok' | 'failed') => void;
}

/** A JWKS fetched from the authorization server, with its cache. */
export interface RemoteKeySet {
  /** Key resolver for jose's `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey;
  /**
   * Fetches the key set now, ignoring the cooldowns.
   * @throws {AuthServiceUnavailableError} `jwks_unavailable` when it cannot be fetched.
   */
  load(): Promise<void>;
  /**
   * Why the last fetch failed, while no later one has succeeded (the keys obtained before are
   * still used); undefined when the last fetch succeeded.
   */
  failing(): string | undefined;
  /** Stops the background refetch that follows a failed fetch. */
  close(): void;
}

/** Default timeout for a key set request, in milliseconds. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;
/** Default minimum time between key set fetches, in milliseconds. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** Default age after which cached keys are refreshed, in milliseconds. */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 600_000;

/**
 * jose's `createRemoteJWKSet`, plus two things it does not do: when the authorization server is
 * unreachable, keep verifying with the last keys obtained (even if older than `cacheMaxAgeMs`), and
 * after a failed fetch wait `cooldownMs` before the next one instead of retrying on every request.
 *
 * @param url The issuer's `jwks_uri`; never a URL taken from a token (`jku`/`x5u` are ignored).
 */
export function createRemoteKeySet(url: URL, options: RemoteKeySetOptions = {}): RemoteKeySet {
  const fetchImpl = options.fetch ?? fetch;
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  let failures = 0;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  let lastFailure: string | undefined;
  let forcing = false;
  let stale: { jwks: JSONWebKeySet; getKey: ReturnType<typeof createLocalJWKSet> } | undefined;
  // After a failed fetch the key set is fetched again in the background (from one cooldown on,
  // backing off), so that readiness and new keys recover without waiting for traffic.
  const refetch = new BackgroundRetry(() => load().catch(() => undefined), { initialDelayMs: Math.max(cooldownMs, 1), maxDelayMs: Math.max(cooldownMs, 60_000) });

  const failed = (why: string): void => {
    failures += 1;
    // Forced fetches (start-up, the background refetch) do not hold requests back: the cooldown
    // after a failure throttles the fetches that requests cause, and the background ones are
    // spaced by their own backoff (at least one cooldown).
    if (!forcing) lastFailureAt = Date.now();
    lastFailure = why;
    refetch.failed();
    options.onFetch?.('failed');
  };
  const succeeded = (): void => {
    lastFailure = undefined;
    refetch.succeeded();
    options.onFetch?.('ok');
  };

  const guardedFetch = async (resource: string, init: RequestInit): Promise<Response> => {
    if (!forcing && Date.now() - lastFailureAt < cooldownMs) {
      failures += 1;
      throw new Error('key set fetch cooling down after a failure');
    }
    let response: Response;
    try {
      response = await fetchImpl(resource, init);
    } catch (error) {
      failed(describe(error));
      throw error;
    }
    if (response.status !== 200) {
      failed(`HTTP ${response.status}`);
      await response.body?.cancel();
      return response;
    }
    const body = await response.text().catch((error: unknown) => {
      failed(describe(error));
      throw error;
    });
    if (!looksLikeKeySet(body)) {
      failed('response is not a JSON Web Key Set');
      throw new Error('key set response is not a JSON Web Key Set');
    }
    succeeded();
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };

  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
    cooldownDuration: cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
    [customFetch]: guardedFetch,
  });

  const lastKnown = (): ReturnType<typeof createLocalJWKSet> | undefined => {
    const jwks = remote.jwks();
    if (jwks === undefined) return undefined;
    if (stale === undefined || JSON.stringify(stale.jwks) !== JSON.stringify(jwks)) {
      stale = { jwks, getKey: createLocalJWKSet(jwks) };
    }
    return stale.getKey;
  };

  const getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const before = failures;
    try {
      return await remote(header, token);
    } catch (error) {
      if (failures === before) throw error;
      const fallback = lastKnown();
      if (fallback === undefined) {
        throw new AuthServiceUnavailableError('jwks_unavailable', `key set ${url.href} unavailable`, { cause: error });
      }
      return fallback(header, token);
    }
  };

  async function load(): Promise<void> {
    forcing = true;
    try {
      await remote.reload();
    } catch (error) {
      throw new AuthServiceUnavailableError('jwks_unavailable', `key set ${url.href} unavailable: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      forcing = false;
    }
  }

  return {
    getKey,
    load,
    failing: () => (lastFailure === undefined ? undefined : `key set ${url.href} unavailable: ${lastFailure}`),
    close: () => refetch.stop(),
  };
}

function looksLikeKeySet(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys);
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return 'unknown error';
}
