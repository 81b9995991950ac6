import { createDpopReplayCache } from '../auth/dpop/dpop-replay-cache.js';
import { type DpopVerifier, createDpopVerifier } from '../auth/dpop/dpop-verifier.js';
import { setUpTokenVerification } from '../auth/issuers/configured-verifier.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { type Config, type IssuerSettings, isLoopbackHost, trustedIssuers } from '../config.js';
import { type DevIssuer, loadOrCreateDevIssuer } from '../dev-issuer/dev-issuer.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../lib/metrics.js';
import { type ChallengeBuilder, createChallengeBuilder } from '../auth/challenge-builder.js';
import { resourceMetadataPath } from './protected-resource-metadata.js';

/** What {@link setUpAuthentication} needs. */
export interface AuthenticationSetupInput {
  readonly config: Pick<Config, 'auth' | 'sharedCache' | 'publicUrl' | 'host' | 'devLandingToken'>;
  /** The API's scope names, which scope maps translate to. */
  readonly catalog: readonly string[];
  /** The server's logger: the development issuer's warning, readiness and cache failures. */
  readonly log: Logger;
  /** Counts key set fetches and introspection calls. Default: none. */
  readonly metrics?: Metrics;
}

/** Everything the HTTP server needs to turn a request's credentials into a principal. */
export interface AuthenticationSetup {
  /** Routes each token to its issuer's JWT verifier or introspection. */
  readonly verifier: TokenVerifier;
  /** DPoP proofs (RFC 9449) for this server's public URL; {@link DpopVerifier.addBaseUrl} once it listens. */
  readonly dpop: DpopVerifier;
  /** Every challenge this server sends (the authentication edge's and the authorization plugin's): one builder, made here. */
  readonly challenges: ChallengeBuilder;
  /** Where this server publishes its RFC 9728 metadata (the path of the challenges' `resource_metadata`). */
  readonly metadataPath: string;
  /** RFC 9728 §2 `authorization_servers`: every authorization server whose tokens are accepted. */
  readonly authorizationServers: readonly string[];
  /** The built-in development issuer, when no external issuer is configured. */
  readonly devIssuer: DevIssuer | undefined;
  /** Stops the verifiers' timers and closes the Redis connections. */
  close(): Promise<void>;
}

/**
 * Token verification from `config.auth`: the development issuer (loaded or created, with a loud
 * warning) or every trusted issuer's JWT verifier and introspection, and the DPoP verifier with
 * its replay cache (in Redis when REDIS_URL is set, so a replay at another replica is caught).
 * Discovery and key loading run in the background: an authorization server that is down at
 * start-up makes /readyz answer 503, not the process crash.
 */
export async function setUpAuthentication(input: AuthenticationSetupInput): Promise<AuthenticationSetup> {
  const { config, log } = input;
  const settings = config.auth.issuer;
  let devIssuer: DevIssuer | undefined;
  if (settings.kind === 'development') {
    devIssuer = await loadOrCreateDevIssuer({ keyFile: settings.keyFile, issuer: settings.issuer, audience: config.auth.audience });
    log.warn(
      { issuer: devIssuer.issuer, landingPageToken: config.devLandingToken },
      `DEVELOPMENT ISSUER: tokens are signed by a local key in data/ — get one with \`npm run token\`. Never use this in production. ${landingPageNote(config)}`,
    );
  }
  const verification = setUpTokenVerification({ auth: config.auth, sharedCache: config.sharedCache, catalog: input.catalog, devIssuer, log, ...(input.metrics ? { metrics: input.metrics } : {}) });
  const shared = config.sharedCache;
  const dpop = createDpopVerifier({
    baseUrls: [config.publicUrl],
    replayCache: createDpopReplayCache({
      redisUrl: shared.kind === 'redis' ? shared.url : undefined,
      maxEntries: config.auth.dpopReplayCacheMaxEntries,
      maxEntriesPerKey: config.auth.dpopReplayCacheMaxEntriesPerKey,
      ...(shared.kind === 'redis' ? { keyPrefix: `${shared.keyPrefix}dpop-jti:` } : {}),
      onError: (error) => log.warn({ event: 'dpop.replay_cache_error', error: error.message }, 'DPoP replay cache (Redis) unavailable'),
    }),
  });
  verification.verifier.ready().catch((error: unknown) => log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'authorization server not ready yet'));

  const metadataPath = resourceMetadataPath(config.auth.audience);
  return {
    verifier: verification.verifier,
    dpop,
    challenges: createChallengeBuilder({ realm: config.auth.audience, resourceMetadataUrl: `${config.publicUrl}${metadataPath}`, dpopAlgorithms: dpop.algorithms }),
    metadataPath,
    authorizationServers: authorizationServers(settings),
    devIssuer,
    async close() {
      await verification.close();
      await dpop.close();
    },
  };
}

/** RFC 9728 §2: the development issuer, or every trusted external one. */
function authorizationServers(settings: IssuerSettings): readonly string[] {
  return settings.kind === 'development' ? [settings.issuer] : trustedIssuers(settings).map((entry) => entry.issuer);
}

/** Whether the landing page embeds a development token, and why (the warning says which applies). */
function landingPageNote(config: AuthenticationSetupInput['config']): string {
  const loopback = isLoopbackHost(config.host);
  if (config.devLandingToken) {
    return (
      'The landing page at /graphql embeds an all-scopes token for anyone who can reach this server' +
      (loopback ? ` (it listens on ${config.host} only; DEV_LANDING_TOKEN=false to stop).` : ` — and it listens on ${config.host} (DEV_LANDING_TOKEN=true).`)
    );
  }
  return `The landing page embeds no token (${loopback ? 'DEV_LANDING_TOKEN=false' : `HOST=${config.host} is not a loopback address; DEV_LANDING_TOKEN=true embeds one`}).`;
}
