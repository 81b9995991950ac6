import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from './authz/authorization-index.js';
import { type DevIssuer, recordDevIssuer } from './dev-issuer/dev-issuer.js';
import { type Config, trustedIssuers } from './config.js';
import { AUTH_ERROR_CATALOG } from './auth/oauth-errors.js';
import { type PrometheusMetrics, createPrometheusMetrics } from './lib/prometheus-metrics.js';
import { type Metrics, NO_METRICS } from './lib/metrics.js';
import { type MetricsServer, startMetricsServer } from './http/metrics-server.js';
import { type RequestTelemetry, requestTelemetry } from './http/request-telemetry.js';
import { type Database, createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedCatalog } from './db/seed.js';
import { readCatalogVersion } from './domain/catalog/product-repository.js';
import { ProductRowCache } from './domain/catalog/product-row-cache.js';
import { createCursorCodec } from './domain/cursor-codec.js';
import { OperationAnalyzer } from './authz/operation-analyzer.js';
import { createApollo } from './graphql/apollo-server.js';
import { type LiveEvents, type RequestContext, requestContextBuilder } from './graphql/context.js';
import { ChangeHub } from './graphql/subscriptions/change-hub.js';
import { type SubscriptionServer, startSubscriptionServer } from './http/subscription-server.js';
import { type ChangeFeed, type ChangeRelay, createChangeFeed } from './db/change-feed.js';
import type { Principal } from './auth/principal.js';
import { landingPagePlugin } from './graphql/landing-page.js';
import { type PersistedDocumentsSetup, setUpPersistedDocuments } from './graphql/persisted-documents-setup.js';
import { publicResponseCachePlugin } from './graphql/public-response-cache.js';
import { buildSchema } from './graphql/schema.js';
import { accessLogDenials } from './http/access-log.js';
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
  /**
   * Serve `/metrics` on `config.telemetry.metricsPort` when it is set. Default: true; false in
   * cluster workers, whose metrics the primary serves aggregated.
   */
  readonly metricsListener?: boolean;
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
  /** This server's metrics (its registry is what `/metrics` serves). */
  readonly metrics: PrometheusMetrics;
  /** Base URL of the metrics listener, when there is one. */
  readonly metricsUrl: string | undefined;
  /**
   * Graceful shutdown: `/readyz` and every new request on an open connection get 503 at once, the
   * listener stops accepting, in-flight requests finish (for at most
   * `config.shutdown.drainTimeoutMs`, then the remaining connections are closed), then Apollo,
   * the verifiers' timers, Redis, the metrics listener and the database pool close. Idempotent.
   */
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
  const database = await createDatabase(config.database, { ...(deps.onQuery ? { onQuery: deps.onQuery } : {}), traceQueries: config.telemetry.tracing });
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
  const metrics = serverMetrics(config, scopes, database);
  // Without METRICS_PORT nothing can scrape them: the layers record into no-ops, which cost nothing per request.
  const instruments: Metrics = config.telemetry.metricsPort !== undefined ? metrics : NO_METRICS;
  // The request metric and span: only when metrics are served or traces exported (each costs every request).
  const observed = config.telemetry.metricsPort !== undefined || config.telemetry.tracing;
  let authentication: AuthenticationSetup | undefined;
  let apollo: ApolloServer<RequestContext> | undefined;
  let subscriptions: SubscriptionServer | undefined;
  let metricsServer: MetricsServer | undefined;
  let draining = false;
  const changes = changeFeedFor(config, deps, app.log);
  const hub = new ChangeHub(changes, (ended) => instruments.subscriptionsInterrupted(ended));
  // Before the HTTP server closes (it waits for open sockets): every WebSocket gets 1001.
  app.addHook('preClose', async () => {
    await subscriptions?.dispose();
  });
  app.addHook('onClose', async () => {
    await apollo?.stop();
    await authentication?.close();
    hub.close();
    await changes.close();
    await metricsServer?.close();
  });
  // While draining, a response's connection is closed once it is sent (RFC 9112 §9.6), so a
  // keep-alive client moves to another replica instead of holding this one open.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  let address: string;
  try {
    authentication = await setUpAuthentication({ config, catalog: scopes, log: app.log, metrics: instruments });
    // Apollo Server's drain: its stop() disposes of the WebSocket server too (serverCleanup.dispose()).
    const drain: ApolloServerPlugin<RequestContext> = { serverWillStart: async () => ({ drainServer: async () => subscriptions?.dispose() }) };
    const analyzer = new OperationAnalyzer(index);
    apollo = await startApollo(config, { schema, index, analyzer, persistedDocuments, authentication, database, log: app.log, drain, metrics: instruments });
    const context = await registerRoutes(app, config, { apollo, index, authentication, database, changes, telemetry: observed ? requestTelemetry(instruments) : undefined, metrics: instruments, draining: () => draining });
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
      context: ({ principal, log, requestId, live }) => context({ principal, log, requestId, live }),
      log: app.log,
    });
    address = (await app.listen({ host: config.host, port: config.port })).replace('[::1]', '127.0.0.1');
    const { metricsPort, metricsHost } = config.telemetry;
    if (metricsPort !== undefined && deps.metricsListener !== false) {
      metricsServer = await startMetricsServer({ host: metricsHost, port: metricsPort, scrape: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }) });
    }
  } catch (error) {
    await app.close(); // stops Apollo, the verifiers' timers, the Redis connections and the metrics listener
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
  let closing: Promise<void> | undefined;
  return {
    url: address,
    app,
    database,
    devIssuer: authentication.devIssuer,
    changes,
    subscriptions,
    metrics,
    metricsUrl: metricsServer?.url,
    close() {
      closing ??= (async () => {
        draining = true;
        // Past the drain timeout, in-flight requests are cut off so that shutdown is bounded.
        const deadline = setTimeout(() => app.server.closeAllConnections(), config.shutdown.drainTimeoutMs);
        deadline.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(deadline);
        }
        await database.close();
      })();
      return closing;
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
    metrics: Metrics;
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
    metrics: parts.metrics,
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
  parts: {
    apollo: ApolloServer<RequestContext>;
    index: AuthorizationIndex;
    authentication: AuthenticationSetup;
    database: Database;
    changes: ChangeFeed;
    telemetry: RequestTelemetry | undefined;
    metrics: Metrics;
    draining: () => boolean;
  },
): Promise<(request: { requestId: string; principal: Principal; log: Logger; live?: LiveEvents }) => RequestContext> {
  const { apollo, index, authentication, database, changes, telemetry } = parts;
  // Public catalog rows shared by all requests, each lookup checked against the catalog version.
  const products = config.graphql.productCacheEntries > 0 ? new ProductRowCache({ maxEntries: config.graphql.productCacheEntries }) : undefined;
  // One key for the process: without CURSOR_SECRET (never in production) a random one.
  const cursors = createCursorCodec(config.cursorSecret);
  const build = requestContextBuilder({ db: database.db, index, mode: config.authorization.mode, products, cursors, changes });
  const context = authenticatedContext(authentication, build, { metrics: parts.metrics, denialsOf: accessLogDenials(config.accessLog), ...(telemetry ? { observerOf: telemetry.observerOf } : {}) });
  await app.register(graphqlRoute, { apollo, context, limits: { batchMax: config.graphql.batchMax, maxTokens: config.limits.maxTokens }, http: config.http, ...(telemetry ? { telemetry } : {}) });
  await app.register(protectedResourceMetadataRoutes, {
    resource: config.auth.audience,
    metadataPath: authentication.metadataPath,
    authorizationServers: authentication.authorizationServers,
    index,
    documentationUrl: `${config.publicUrl}/graphql`,
    dpopAlgorithms: authentication.dpop.algorithms,
  });
  await app.register(healthRoutes, { ping: () => database.ping(), verifier: authentication.verifier, draining: parts.draining });
  if (authentication.devIssuer !== undefined) await app.register(developmentIssuerRoutes, { devIssuer: authentication.devIssuer });
  applyConnectionLimit(app.server, config.http);
  return build;
}

/**
 * The server's Prometheus metrics, their labels bounded by the configured issuers, the schema's
 * scopes, the error catalog's reasons and the operation limits' names.
 */
function serverMetrics(config: Config, scopes: readonly string[], database: Database): PrometheusMetrics {
  const settings = config.auth.issuer;
  const issuers = settings.kind === 'development' ? [settings.issuer] : trustedIssuers(settings).map((entry) => entry.issuer);
  const reasons = Object.values(AUTH_ERROR_CATALOG).flatMap((family) => Object.keys(family.reasons));
  return createPrometheusMetrics({
    issuers,
    scopes,
    reasons,
    limits: Object.keys(config.limits.operation),
    pool: () => database.poolStats(),
    // Their collectors sample the event loop and GC all the time: only when someone will scrape them.
    processMetrics: config.telemetry.metricsPort !== undefined,
  });
}
