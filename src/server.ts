import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { type DevIssuer, loadOrCreateDevIssuer, recordDevIssuer } from './dev-issuer/dev-issuer.js';
import { createChallengeBuilder } from './auth/challenge-builder.js';
import { createDpopReplayCache } from './auth/dpop/dpop-replay-cache.js';
import { createDpopVerifier } from './auth/dpop/dpop-verifier.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import { setUpTokenVerification } from './auth/issuers/configured-verifier.js';
import { type Config, isLoopbackHost, trustedIssuers } from './config.js';
import { type Database, createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedCatalog } from './db/seed.js';
import { authenticate } from './http/authentication.js';
import { readCatalogVersion } from './domain/catalog/product-repository.js';
import { ProductRowCache } from './domain/catalog/product-row-cache.js';
import { createCursorCodec } from './domain/cursor-codec.js';
import { OperationAnalyzer } from './authz/operation-analyzer.js';
import { createApollo } from './graphql/apollo-server.js';
import { setUpPersistedDocuments } from './graphql/persisted-documents-setup.js';
import { publicResponseCachePlugin } from './graphql/public-response-cache.js';
import { type RequestContext, createRequestContext } from './graphql/context.js';
import { buildSchema } from './graphql/schema.js';
import { apolloHandler } from './http/apollo-handler.js';
import { applyConnectionLimit, graphqlBodyLimitErrorHandler, httpServerOptions } from './http/http-limits.js';
import { protectedResourceMetadata, resourceMetadataPath } from './http/protected-resource-metadata.js';
import type { Logger } from './logger.js';

/** Replaceable collaborators, for tests. Everything not given is built from the configuration. */
export interface ServerDeps {
  /** An open, migrated database (the server then does not close it). */
  readonly database?: Database;
  /** Token verification (default: from `config.auth`). */
  readonly verifier?: TokenVerifier;
  /** Called once per SQL statement (statement counting in tests and benchmarks). */
  readonly onQuery?: (sql: string) => void;
  /**
   * false: serve without the authorization layer (no schema transform, no plugin), everything
   * else identical. Only for benchmarks that measure what the layer costs. Default: true.
   */
  readonly authorization?: boolean;
  /** Pino options or false to silence logs; `stream` receives each JSON line (log assertions in tests). */
  readonly logger?: boolean | { level: string; stream?: { write(line: string): void } };
}

export interface ServerHandle {
  /** Base URL the server listens on, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly database: Database;
  /** The built-in development issuer, when no external issuer is configured. */
  readonly devIssuer: DevIssuer | undefined;
  close(): Promise<void>;
}

/** Root fields that read only the public catalog: their anonymous responses may be cached. */
const CATALOG_ROOT_FIELDS: ReadonlySet<string> = new Set(['products', 'product']);

const EXAMPLE_OPERATION_BODY = `query MyOrders {
  me {
    displayName
    orders(first: 5) {
      edges { node { id status total { amount currency } items { quantity product { name } } } }
    }
  }
  products(first: 3) { edges { node { id name price { amount currency } inStock } } }
}
`;
const EXAMPLE_OPERATION = `# Try it: the Authorization header below holds a development token with every scope.
${EXAMPLE_OPERATION_BODY}`;
const EXAMPLE_OPERATION_WITHOUT_TOKEN = `# Try it: get a token with \`npm run token -- --sub alice --scope "read:profile read:orders"\`
# and add the header Authorization: Bearer <token>. (The landing page embeds one only when the
# server listens on a loopback address, or with DEV_LANDING_TOKEN=true.)
${EXAMPLE_OPERATION_BODY}`;

/**
 * Builds the whole resource server: database (migrated and seeded), token verification, the
 * schema with its authorization, Apollo Server on Fastify and the metadata and health routes.
 * Listens on `config.host`/`config.port` (port 0 picks a free port).
 */
export async function createServer(config: Config, deps: ServerDeps = {}): Promise<ServerHandle> {
  const ownsDatabase = deps.database === undefined;
  const database = deps.database ?? (await createDatabase(config.database, { onQuery: deps.onQuery }));
  try {
    if (ownsDatabase) {
      await migrateToLatest(database.db);
      await seedCatalog(database.db);
    }
    return await startHttp(config, deps, database, ownsDatabase);
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }
}

async function startHttp(config: Config, deps: ServerDeps, database: Database, ownsDatabase: boolean): Promise<ServerHandle> {
  const { schema, index } = buildSchema({ authorization: deps.authorization !== false });
  // Before anything listens: a manifest operation that no longer validates stops start-up.
  const persistedDocuments = setUpPersistedDocuments(config.persistedDocuments, schema, index);
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // Deadlines for slow clients, body and header sizes (README, "HTTP limits").
    ...httpServerOptions(config.http),
    // A caller-supplied request id is accepted only if it is short and harmless to log.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });

  const issuerSettings = config.auth.issuer;
  let devIssuer: DevIssuer | undefined;
  if (issuerSettings.kind === 'development') {
    devIssuer = await loadOrCreateDevIssuer({ keyFile: issuerSettings.keyFile, issuer: issuerSettings.issuer, audience: config.auth.audience });
    const landing = config.devLandingToken
      ? 'The landing page at /graphql embeds an all-scopes token for anyone who can reach this server' +
        (isLoopbackHost(config.host) ? ` (it listens on ${config.host} only; DEV_LANDING_TOKEN=false to stop).` : ` — and it listens on ${config.host} (DEV_LANDING_TOKEN=true).`)
      : `The landing page embeds no token (${isLoopbackHost(config.host) ? 'DEV_LANDING_TOKEN=false' : `HOST=${config.host} is not a loopback address; DEV_LANDING_TOKEN=true embeds one`}).`;
    app.log.warn(
      { issuer: devIssuer.issuer, landingPageToken: config.devLandingToken },
      `DEVELOPMENT ISSUER: tokens are signed by a local key in data/ — get one with \`npm run token\`. Never use this in production. ${landing}`,
    );
  }
  // Every trusted issuer's JWT verifier and, for the one with client credentials, introspection
  // (results in Redis when REDIS_URL is set), routed by the token's issuer.
  const verification =
    deps.verifier === undefined
      ? setUpTokenVerification({ auth: config.auth, sharedCache: config.sharedCache, catalog: index.scopes.map((s) => s.name), devIssuer, log: app.log as unknown as Logger })
      : undefined;
  const tokenVerifier = deps.verifier ?? verification!.verifier;
  // DPoP (RFC 9449): proofs for this server's public URL (and, once known, its listening address);
  // used proofs are remembered in Redis when REDIS_URL is set, so a replay at another replica is caught.
  const dpop = createDpopVerifier({
    baseUrls: [config.publicUrl],
    replayCache: createDpopReplayCache({
      redisUrl: config.sharedCache.kind === 'redis' ? config.sharedCache.url : undefined,
      maxEntries: config.auth.dpopReplayCacheMaxEntries,
      maxEntriesPerKey: config.auth.dpopReplayCacheMaxEntriesPerKey,
      ...(config.sharedCache.kind === 'redis' ? { keyPrefix: `${config.sharedCache.keyPrefix}dpop-jti:` } : {}),
      onError: (error) => app.log.warn({ event: 'dpop.replay_cache_error', error: error.message }, 'DPoP replay cache (Redis) unavailable'),
    }),
  });
  // Discovery and key loading happen in the background: an authorization server that is down at
  // start-up makes /readyz answer 503 (and retry), not the process crash.
  tokenVerifier.ready().catch((error: unknown) => app.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'authorization server not ready yet'));

  const metadataPath = resourceMetadataPath(config.auth.audience);
  // One builder for every challenge: the authentication edge's and the authorization plugin's.
  const challenges = createChallengeBuilder({ realm: config.auth.audience, resourceMetadataUrl: `${config.publicUrl}${metadataPath}`, dpopAlgorithms: dpop.algorithms });
  // RFC 9728 §2: every authorization server whose tokens are accepted here.
  const authorizationServers = devIssuer !== undefined ? [devIssuer.issuer] : trustedIssuers(issuerSettings).map((entry) => entry.issuer);

  // The development token only for a server reachable from this machine alone, unless asked for.
  const landingPage: ApolloServerPlugin<RequestContext> =
    devIssuer !== undefined
      ? ApolloServerPluginLandingPageLocalDefault({
          embed: {
            initialState: {
              pollForSchemaUpdates: false,
              ...(config.devLandingToken
                ? { sharedHeaders: { Authorization: `Bearer ${await devIssuer.sign({ sub: 'dev-user', name: 'Dev User', scope: index.scopes.map((s) => s.name).join(' '), expiresInSec: 12 * 3600 })}` } }
                : {}),
            },
          },
          document: config.devLandingToken ? EXAMPLE_OPERATION : EXAMPLE_OPERATION_WITHOUT_TOKEN,
          includeCookies: false,
        })
      : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false });

  // One analysis per operation for the limits, the authorization plan and the catalog cache.
  const analyzer = new OperationAnalyzer(index);
  const apollo = createApollo({
    analyzer,
    schema,
    index,
    mode: config.authorization.mode,
    executor: config.graphql.executor,
    authorization: deps.authorization !== false,
    hideSchemaDetails: config.graphql.hideSchemaDetails,
    batching: config.graphql.batchMax > 0,
    challenges,
    logger: app.log as unknown as Logger,
    limits: config.limits,
    persistedDocuments,
    plugins: [
      landingPage,
      ...(config.graphql.catalogCacheEntries > 0
        ? [publicResponseCachePlugin<RequestContext>({ analyzer, rootFields: CATALOG_ROOT_FIELDS, readVersion: () => readCatalogVersion(database.db), maxEntries: config.graphql.catalogCacheEntries })]
        : []),
    ],
  });
  await apollo.start();

  // Public catalog rows shared by all requests, each lookup checked against the catalog version.
  const products = config.graphql.productCacheEntries > 0 ? new ProductRowCache({ maxEntries: config.graphql.productCacheEntries }) : undefined;
  // One key for the process: without CURSOR_SECRET (never in production) a random one.
  const cursors = createCursorCodec(config.cursorSecret);
  const context = async (request: import('fastify').FastifyRequest): Promise<RequestContext> => {
    const log = request.log as unknown as Logger; // pino's child logger satisfies Logger structurally
    const credentials = {
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders ?? [],
      query: request.query,
      body: request.body,
      method: request.raw.method ?? request.method,
      url: request.raw.url ?? request.url,
    };
    const principal = await authenticate(credentials, tokenVerifier, challenges, log, dpop);
    return createRequestContext({ requestId: String(request.id), principal, db: database.db, index, mode: config.authorization.mode, log, products, cursors });
  };
  const handler = apolloHandler(apollo, context, { batchMax: config.graphql.batchMax, maxTokens: config.limits.maxTokens });
  app.route({ url: '/graphql', method: ['GET', 'POST', 'OPTIONS'], handler, errorHandler: graphqlBodyLimitErrorHandler(config.http) });
  applyConnectionLimit(app.server, config.http);

  const metadata = () => protectedResourceMetadata({ resource: config.auth.audience, authorizationServers, index, documentationUrl: `${config.publicUrl}/graphql`, dpopAlgorithms: dpop.algorithms });
  // The root document, the one for the GraphQL endpoint's path, and the one for the audience's path.
  for (const path of new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/graphql', metadataPath])) {
    app.get(path, async () => metadata());
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const reasons: string[] = [];
    try {
      await database.ping();
    } catch {
      reasons.push('database unreachable');
    }
    const auth = tokenVerifier.status();
    if (auth.issuers !== undefined) {
      for (const issuer of auth.issuers) if (!issuer.ready) reasons.push(`${issuer.issuer}: ${issuer.reason ?? 'not ready'}`);
    } else if (!auth.ready) {
      reasons.push(`signing keys not loaded${auth.reason ? `: ${auth.reason}` : ''}`);
    }
    const issuers = auth.issuers?.map(({ issuer, ready }) => ({ issuer, ready }));
    return reasons.length === 0 ? { status: 'ready', ...(issuers ? { issuers } : {}) } : reply.code(503).send({ status: 'not_ready', reasons, ...(issuers ? { issuers } : {}) });
  });

  if (devIssuer) {
    const dev = devIssuer;
    const base = new URL(dev.issuer).pathname.replace(/\/$/, '');
    app.get(`${base}/.well-known/oauth-authorization-server`, async () => dev.metadata());
    app.get(`/.well-known/oauth-authorization-server${base}`, async () => dev.metadata());
    app.get(`${base}/.well-known/openid-configuration`, async () => dev.metadata());
    app.get(`${base}/jwks.json`, async () => dev.jwks);
  }

  app.addHook('onClose', async () => {
    await apollo.stop();
    if (verification !== undefined) await verification.close();
    else tokenVerifier.close();
    await dpop.close();
  });

  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close(); // stops Apollo, the verifiers' timers and the Redis connections
    throw error;
  }
  const url = address.replace('[::1]', '127.0.0.1');
  dpop.addBaseUrl(url);
  if (devIssuer !== undefined) {
    // So that `npm run token` in this folder mints tokens this server accepts, however it was started.
    await recordDevIssuer(config.dataDir, { issuer: devIssuer.issuer, audience: config.auth.audience, keyId: devIssuer.keyId, url }).catch((error: unknown) =>
      app.log.warn({ reason: error instanceof Error ? error.message : String(error) }, `could not record the development issuer in ${config.dataDir}: npm run token needs --url ${url}`),
    );
  }
  let closed = false;
  return {
    url,
    app,
    database,
    devIssuer,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      if (ownsDatabase) await database.close();
    },
  };
}
