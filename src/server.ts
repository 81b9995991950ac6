import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from './authz/authorization-index.js';
import { type DevIssuer, recordDevIssuer } from './dev-issuer/dev-issuer.js';
import type { Config } from './config.js';
import { type Database, createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedCatalog } from './db/seed.js';
import { readCatalogVersion } from './domain/catalog/product-repository.js';
import { ProductRowCache } from './domain/catalog/product-row-cache.js';
import { createCursorCodec } from './domain/cursor-codec.js';
import { OperationAnalyzer } from './authz/operation-analyzer.js';
import { createApollo } from './graphql/apollo-server.js';
import { type LiveEvents, type RequestContext, createRequestContext } from './graphql/context.js';
import { ChangeHub } from './graphql/subscriptions/change-hub.js';
import { type SubscriptionServer, startSubscriptionServer } from './http/subscription-server.js';
import { type ChangeFeed, type ChangeRelay, createChangeFeed } from './db/change-feed.js';
import type { Principal } from './auth/principal.js';
import { landingPagePlugin } from './graphql/landing-page.js';
import { type PersistedDocumentsSetup, setUpPersistedDocuments } from './graphql/persisted-documents-setup.js';
import { publicResponseCachePlugin } from './graphql/public-response-cache.js';
import { buildSchema } from './graphql/schema.js';
import { authenticatedContext } from './http/authenticated-context.js';
import { type AuthenticationSetup, setUpAuthentication } from './http/authentication-setup.js';
import { developmentIssuerRoutes } from './http/development-issuer-routes.js';
import { type LoggerOption, createFastifyApp } from './http/fastify-app.js';
import { graphqlRoute } from './http/graphql-route.js';
import { healthRoutes } from './http/health-routes.js';
import { applyConnectionLimit } from './http/http-limits.js';
import { protectedResourceMetadataRoutes } from './http/protected-resource-metadata-routes.js';
import type { Logger } from './logger.js';

/** Hooks for tests and benchmarks; everything else is built from the configuration. */
export interface ServerDeps {
  /** Called once per SQL statement (statement counting in tests and benchmarks). */
  readonly onQuery?: (sql: string) => void;
  /** Pino options or false to silence logs; `stream` receives each JSON line (log assertions in tests). */
  readonly logger?: LoggerOption;
  /** SQLite: passes committed changes to the other processes on the same file (`npm run start:cluster`'s workers). */
  readonly changeRelay?: ChangeRelay | undefined;
}

export interface ServerHandle {
  /** Base URL the server listens on, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly database: Database;
  /** The built-in development issuer, when no external issuer is configured. */
  readonly devIssuer: DevIssuer | undefined;
  /** Committed changes of every process on this database (what subscriptions are fed from). */
  readonly changes: ChangeFeed;
  /** The WebSocket endpoint (subscriptions). */
  readonly subscriptions: SubscriptionServer;
  close(): Promise<void>;
}

/** Root fields that read only the public catalog: their anonymous responses may be cached. */
export const CATALOG_ROOT_FIELDS: ReadonlySet<string> = new Set(['products', 'product']);

/**
 * Builds the whole resource server: database (migrated and seeded), token verification, the
 * schema with its authorization, Apollo Server on Fastify and the metadata and health routes.
 * Listens on `config.host`/`config.port` (port 0 picks a free port).
 */
export async function createServer(config: Config, deps: ServerDeps = {}): Promise<ServerHandle> {
  const database = await createDatabase(config.database, { onQuery: deps.onQuery });
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
    return await startHttp(config, deps, database);
  } catch (error) {
    await database.close();
    throw error;
  }
}

function changeFeedFor(config: Config, deps: ServerDeps, log: Logger): ChangeFeed {
  return createChangeFeed(config.database, {
    ...(deps.changeRelay ? { relay: deps.changeRelay } : {}),
    onConnectionChange: (state, error) =>
      state === 'lost'
        ? log.warn({ event: 'changes.listen_lost', error: error?.message }, 'LISTEN connection lost: changes committed until it is back are not delivered to subscribers')
        : log.info({ event: 'changes.listen_restored' }, 'LISTEN connection restored'),
  });
}

async function startHttp(config: Config, deps: ServerDeps, database: Database): Promise<ServerHandle> {
  const { schema, index } = buildSchema();
  const scopes = index.scopes.map((s) => s.name);
  // Before anything listens: a manifest operation that no longer validates stops start-up.
  const persistedDocuments = setUpPersistedDocuments(config.persistedDocuments, schema, index);
  const app = createFastifyApp(config, deps.logger);
  let authentication: AuthenticationSetup | undefined;
  let apollo: ApolloServer<RequestContext> | undefined;
  let subscriptions: SubscriptionServer | undefined;
  const changes = changeFeedFor(config, deps, app.log);
  const hub = new ChangeHub(changes);
  // Before the HTTP server closes (it waits for open sockets): every WebSocket gets 1001.
  app.addHook('preClose', async () => {
    await subscriptions?.dispose();
  });
  app.addHook('onClose', async () => {
    await apollo?.stop();
    await authentication?.close();
    hub.close();
    await changes.close();
  });
  let address: string;
  try {
    authentication = await setUpAuthentication({ config, catalog: scopes, log: app.log });
    // Apollo Server's drain: its stop() disposes of the WebSocket server too (serverCleanup.dispose()).
    const drain: ApolloServerPlugin<RequestContext> = { serverWillStart: async () => ({ drainServer: async () => subscriptions?.dispose() }) };
    const analyzer = new OperationAnalyzer(index);
    apollo = await startApollo(config, { schema, index, analyzer, persistedDocuments, authentication, database, log: app.log, drain });
    const context = await registerRoutes(app, config, { apollo, index, authentication, database, changes });
    subscriptions = startSubscriptionServer({
      server: app.server,
      path: '/graphql',
      schema,
      index,
      analyzer,
      authentication,
      hub,
      config,
      trustedDocuments: { documents: persistedDocuments.trusted, mode: config.persistedDocuments.mode, bypassScope: config.persistedDocuments.bypassScope },
      context: ({ principal, log, requestId, live }) => context({ principal, log, requestId, ...(live ? { live } : {}) }),
      log: app.log,
    });
    address = (await app.listen({ host: config.host, port: config.port })).replace('[::1]', '127.0.0.1');
  } catch (error) {
    await app.close(); // stops Apollo, the verifiers' timers and the Redis connections
    throw error;
  }
  authentication.dpop.addBaseUrl(address);
  const { devIssuer } = authentication;
  if (devIssuer !== undefined) {
    // So that `npm run token` in this folder mints tokens this server accepts, however it was started.
    await recordDevIssuer(config.dataDir, { issuer: devIssuer.issuer, audience: config.auth.audience, keyId: devIssuer.keyId, url: address }).catch((error: unknown) =>
      app.log.warn({ reason: error instanceof Error ? error.message : String(error) }, `could not record the development issuer in ${config.dataDir}: npm run token needs --url ${address}`),
    );
  }
  let closed = false;
  return {
    url: address,
    app,
    database,
    devIssuer: authentication.devIssuer,
    changes,
    subscriptions,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await database.close();
    },
  };
}

/** Apollo Server with the authorization layer, the landing page and the catalog response cache, started. */
async function startApollo(
  config: Config,
  parts: {
    schema: GraphQLSchema;
    index: AuthorizationIndex;
    analyzer: OperationAnalyzer;
    persistedDocuments: PersistedDocumentsSetup;
    authentication: AuthenticationSetup;
    database: Database;
    log: Logger;
    drain: ApolloServerPlugin<RequestContext>;
  },
): Promise<ApolloServer<RequestContext>> {
  const { index, authentication, database } = parts;
  // One analysis per operation for the limits, the authorization plan, the catalog cache and the WebSocket subscribes.
  const { analyzer } = parts;
  const apollo = createApollo({
    analyzer,
    schema: parts.schema,
    index,
    mode: config.authorization.mode,
    executor: config.graphql.executor,
    hideSchemaDetails: config.graphql.hideSchemaDetails,
    batching: config.graphql.batchMax > 0,
    challenges: authentication.challenges,
    logger: parts.log,
    limits: config.limits,
    persistedDocuments: parts.persistedDocuments,
    plugins: [
      parts.drain,
      await landingPagePlugin<RequestContext>({ devIssuer: authentication.devIssuer, embedToken: config.devLandingToken, scopes: index.scopes.map((s) => s.name) }),
      ...(config.graphql.catalogCacheEntries > 0
        ? [publicResponseCachePlugin<RequestContext>({ analyzer, rootFields: CATALOG_ROOT_FIELDS, readVersion: () => readCatalogVersion(database.db), maxEntries: config.graphql.catalogCacheEntries })]
        : []),
    ],
  });
  await apollo.start();
  return apollo;
}

/** /graphql, the RFC 9728 metadata, /healthz and /readyz, and the development issuer's documents. */
async function registerRoutes(
  app: FastifyInstance,
  config: Config,
  parts: { apollo: ApolloServer<RequestContext>; index: AuthorizationIndex; authentication: AuthenticationSetup; database: Database; changes: ChangeFeed },
): Promise<(request: { requestId: string; principal: Principal; log: Logger; live?: LiveEvents }) => RequestContext> {
  const { apollo, index, authentication, database, changes } = parts;
  // Public catalog rows shared by all requests, each lookup checked against the catalog version.
  const products = config.graphql.productCacheEntries > 0 ? new ProductRowCache({ maxEntries: config.graphql.productCacheEntries }) : undefined;
  // One key for the process: without CURSOR_SECRET (never in production) a random one.
  const cursors = createCursorCodec(config.cursorSecret);
  const build = (request: { requestId: string; principal: Principal; log: Logger; live?: LiveEvents }) =>
    createRequestContext({ ...request, db: database.db, index, mode: config.authorization.mode, products, cursors, changes });
  const context = authenticatedContext(authentication, build);
  await app.register(graphqlRoute, { apollo, context, limits: { batchMax: config.graphql.batchMax, maxTokens: config.limits.maxTokens }, http: config.http });
  await app.register(protectedResourceMetadataRoutes, {
    resource: config.auth.audience,
    metadataPath: authentication.metadataPath,
    authorizationServers: authentication.authorizationServers,
    index,
    documentationUrl: `${config.publicUrl}/graphql`,
    dpopAlgorithms: authentication.dpop.algorithms,
  });
  await app.register(healthRoutes, { ping: () => database.ping(), verifier: authentication.verifier });
  if (authentication.devIssuer !== undefined) await app.register(developmentIssuerRoutes, { devIssuer: authentication.devIssuer });
  applyConnectionLimit(app.server, config.http);
  return build;
}
