import type { Config, SharedCacheSettings, TrustedIssuerSettings } from '../../config.js';
import { ConfigError, trustedIssuers } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { DevIssuer } from '../../dev-issuer/dev-issuer.js';
import { createIntrospectionVerifier } from '../introspection/introspection-verifier.js';
import { createIssuerRouter, type TrustedIssuer } from './issuer-router.js';
import { createMemorySharedCache } from '../cache/memory-shared-cache.js';
import { createRedisSharedCache } from '../cache/redis-shared-cache.js';
import type { ScopeMapSpec } from '../../lib/scope-map-spec.js';
import { compileScopeMap, type ScopeMapper } from '../scope-map.js';
import type { SharedCache } from '../cache/shared-cache.js';
import { createTokenVerifier } from '../jwt/jwt-verifier.js';
import type { TokenVerifier } from '../token-verifier.js';
import type { Metrics } from '../../lib/metrics.js';

/** What {@link setUpTokenVerification} needs. */
export interface TokenVerificationInput {
  readonly auth: Config['auth'];
  readonly sharedCache: SharedCacheSettings;
  /** The API's scope names (`verb:resource`), which scope maps translate to. */
  readonly catalog: readonly string[];
  /** The built-in development issuer, when `auth.issuer.kind` is `development`. */
  readonly devIssuer?: DevIssuer | undefined;
  readonly log: Logger;
  /** Counts key set fetches and introspection calls. Default: none. */
  readonly metrics?: Metrics;
}

/** Token verification for the whole server, and what goes with it. */
export interface TokenVerification {
  /** Routes each token to its issuer's JWT verifier or introspection. */
  readonly verifier: TokenVerifier;
  /** Stops the verifiers and closes the shared cache's connection. */
  close(): Promise<void>;
}

/**
 * Builds verification from configuration: for each trusted issuer a JWT verifier (unless all its
 * tokens are introspected) and, for the one with client credentials, an introspection verifier
 * whose results live in the shared cache (Redis when configured), all behind one issuer router.
 *
 * @throws {ConfigError} a scope map does not fit the API's scopes (names the variable).
 */
export function setUpTokenVerification(input: TokenVerificationInput): TokenVerification {
  const { auth } = input;
  const settings = auth.issuer;

  if (settings.kind === 'development') {
    if (input.devIssuer === undefined) throw new TypeError('the development issuer must be loaded first');
    const issuer = input.devIssuer.issuer;
    const jwt = createTokenVerifier({
      issuer,
      audience: auth.audience,
      keys: input.devIssuer.jwks,
      algorithms: [...auth.algorithms],
      tokenTypes: [...auth.tokenTypes],
      clockToleranceSec: auth.clockToleranceSec,
      ...tokenAge(auth),
      scopeMap: mapper(settings.scopeMap, input.catalog, (message) => new ConfigError('OAUTH_SCOPE_MAP', message)),
    });
    const verifier = createIssuerRouter([{ issuer, jwt }], routerCache(auth));
    return { verifier, close: async () => verifier.close() };
  }

  const issuers = trustedIssuers(settings);
  let cache: SharedCache | undefined;
  const sharedCache = (): SharedCache => {
    cache ??=
      input.sharedCache.kind === 'redis'
        ? createRedisSharedCache({ url: input.sharedCache.url, keyPrefix: input.sharedCache.keyPrefix, log: input.log })
        : createMemorySharedCache();
    return cache;
  };

  // Every scope map first: a bad one stops start-up before any connection is opened.
  const scopeMaps = issuers.map((entry, index) =>
    mapper(entry.scopeMap, input.catalog, (message) =>
      settings.kind === 'multiple' ? new ConfigError('OAUTH_ISSUERS', message, { index, field: 'scopeMap' }) : new ConfigError('OAUTH_SCOPE_MAP', message),
    ),
  );
  const trusted = issuers.map((entry, index): TrustedIssuer => {
    const scopeMap = scopeMaps[index];
    const introspectAll = entry.introspection?.introspectAll === true;
    return {
      issuer: entry.issuer,
      ...(introspectAll ? {} : { jwt: jwtVerifier(entry, auth, scopeMap, input.metrics) }),
      ...(entry.introspection
        ? {
            introspectAll,
            introspection: createIntrospectionVerifier({
              issuer: entry.issuer,
              audience: entry.audience,
              ...(entry.introspection.url !== undefined ? { endpoint: entry.introspection.url } : {}),
              clientId: entry.introspection.clientId,
              clientSecret: entry.introspection.clientSecret,
              timeoutMs: auth.introspectionTimeoutMs,
              cache: sharedCache(),
              cacheTtlSec: auth.introspectionCacheTtlSec,
              clockToleranceSec: auth.clockToleranceSec,
              ...tokenAge(auth),
              ...(scopeMap ? { scopeMap } : {}),
              log: input.log,
              ...(input.metrics ? { metrics: input.metrics } : {}),
            }),
          }
        : {}),
    };
  });

  const verifier = createIssuerRouter(trusted, routerCache(auth));
  return {
    verifier,
    async close() {
      verifier.close();
      await cache?.close();
    },
  };
}

function jwtVerifier(entry: TrustedIssuerSettings, auth: Config['auth'], scopeMap: ScopeMapper | undefined, metrics: Metrics | undefined): TokenVerifier {
  return createTokenVerifier({
    issuer: entry.issuer,
    audience: entry.audience,
    ...(entry.jwksUri !== undefined ? { jwksUri: entry.jwksUri } : {}),
    algorithms: [...entry.algorithms],
    tokenTypes: [...entry.tokenTypes],
    ...(entry.requiredClaims !== undefined ? { requiredClaims: [...entry.requiredClaims] } : {}),
    clockToleranceSec: auth.clockToleranceSec,
    jwksCooldownMs: auth.jwksCooldownMs,
    jwksCacheMaxAgeMs: auth.jwksCacheMaxAgeMs,
    ...tokenAge(auth),
    ...(scopeMap ? { scopeMap } : {}),
    ...(metrics ? { metrics } : {}),
  });
}

/** `OAUTH_MAX_TOKEN_AGE`, for every verifier. */
function tokenAge(auth: Config['auth']): { maxTokenAgeSec?: number } {
  return auth.maxTokenAgeSec !== undefined ? { maxTokenAgeSec: auth.maxTokenAgeSec } : {};
}

/** The router's verified-token cache: `OAUTH_TOKEN_CACHE_MAX_TTL`, and never past `OAUTH_MAX_TOKEN_AGE`. */
function routerCache(auth: Config['auth']): { cacheMaxTtlSec: number; maxTokenAgeSec?: number } {
  return { cacheMaxTtlSec: auth.tokenCacheMaxTtlSec, ...tokenAge(auth) };
}

function mapper(spec: ScopeMapSpec | undefined, catalog: readonly string[], fail: (message: string) => ConfigError): ScopeMapper | undefined {
  if (spec === undefined) return undefined;
  try {
    return compileScopeMap(spec, catalog);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : 'does not fit the API\'s scopes');
  }
}
