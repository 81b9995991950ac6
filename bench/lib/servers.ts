/**
 * The benchmark's server variants, built in the server process (`bench/server-child.ts`).
 */
import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { makeExecutableSchema } from '@graphql-tools/schema';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { fileURLToPath } from 'node:url';
import type { Principal } from '../../src/auth/principal.js';
import { type Config, loadConfig } from '../../src/config.js';
import { type Database, createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { seedCatalog } from '../../src/db/seed.js';
import { createCursorCodec } from '../../src/domain/cursor-codec.js';
import { type RequestDeps, createRequestDeps } from '../../src/domain/request-deps.js';
import { jitExecutionPlugin } from '../../src/graphql/jit-executor.js';
import { resolvers } from '../../src/graphql/resolvers/index.js';
import { buildSchema, executableSchema, loadTypeDefs } from '../../src/graphql/schema.js';
import { layerlessApollo } from './layerless-apollo.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { CATALOG_ROOT_FIELDS, createServer } from '../../src/server.js';
import { OperationAnalyzer } from '../../src/authz/operation-analyzer.js';
import { readCatalogVersion } from '../../src/domain/catalog/product-repository.js';
import { ProductRowCache } from '../../src/domain/catalog/product-row-cache.js';
import { type RequestContext, requestContextBuilder } from '../../src/graphql/context.js';
import { setUpPersistedDocuments } from '../../src/graphql/persisted-documents-setup.js';
import { publicResponseCachePlugin } from '../../src/graphql/public-response-cache.js';
import { authenticatedContext } from '../../src/http/authenticated-context.js';
import { type AuthenticationSetup, setUpAuthentication } from '../../src/http/authentication-setup.js';
import { createFastifyApp } from '../../src/http/fastify-app.js';
import { graphqlRoute } from '../../src/http/graphql-route.js';
import type { TokenSettings } from './protocol.js';
import { BENCH_USERS, type SeedOptions, benchPrincipal, seedBenchData } from './seed.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Issuer of the fixed principal of the servers without authentication. */
export const FIXED_ISSUER = 'https://fixed-principal.bench';

/** What the resolvers read from the context when there is no authorization layer (no `guard`). */
interface PlainContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly deps: RequestDeps;
  readonly log: Logger;
}

export interface Running {
  readonly url: string;
  readonly tokens?: TokenSettings;
  readonly executor: string;
  close(): Promise<void>;
}

let sqlStatements = 0;
const onQuery = (): void => {
  sqlStatements++;
};

/** SQL statements this process has sent to its database so far. */
export function sqlStatementCount(): number {
  return sqlStatements;
}

/**
 * The environment the project is configured from: loopback, port 0, its own data folder, nothing
 * else from the caller's shell except `GRAPHQL_EXECUTOR` (to compare executors).
 */
export function benchEnv(dataDir: string): Record<string, string> {
  const executor = process.env['GRAPHQL_EXECUTOR'];
  return { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(executor ? { GRAPHQL_EXECUTOR: executor } : {}) };
}

/** The project's execution plugins for a plain schema: graphql-jit (Apollo's default formatting of errors), or none (graphql-js). */
function executorPlugins(config: Config, schema: GraphQLSchema): ApolloServerPlugin<PlainContext>[] {
  return config.graphql.executor === 'jit' ? [jitExecutionPlugin<PlainContext>({ schema })] : [];
}

export function tokenSettings(config: Config): TokenSettings {
  const issuer = config.auth.issuer;
  if (issuer.kind !== 'development') throw new Error('the bench expects the development issuer');
  return { keyFile: issuer.keyFile, issuer: issuer.issuer, audience: config.auth.audience };
}

/** The bench data set in a fresh database: migrated, the demo catalog, the bench products and orders (profiles of `seedIssuer`). */
export async function openDatabase(config: Config['database'], seedIssuer: string | undefined, seed: SeedOptions = {}): Promise<Database> {
  const database = await createDatabase(config, { onQuery });
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
    if (seedIssuer !== undefined) await seedBenchData(database.db, seedIssuer, seed);
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** (2) The real product, everything on. */
export async function startProject(dataDir: string, seed: boolean): Promise<Running> {
  const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT);
  const tokens = tokenSettings(config);
  const handle = await createServer(config, { onQuery, logger: false });
  try {
    if (seed) await seedBenchData(handle.database.db, tokens.issuer);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { url: handle.url, tokens, executor: config.graphql.executor, close: () => handle.close() };
}

/**
 * (1) baseline: vanilla Apollo Server 5 on Fastify as its documentation sets it up (default
 * plugins, including cache control; graphql-js), or (3) no-authz: the same with the project's
 * Apollo tuning (executor, no cache-control plugin, no stack traces). The project's schema
 * without the authorization transform, its resolvers and database; no authentication: every
 * request acts as the first bench user, with fresh loaders.
 */
export async function startPlain(variant: 'baseline' | 'no-authz', dataDir: string, seed: boolean): Promise<Running> {
  const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT); // for the executor only
  const database = await openDatabase(config.database, seed ? FIXED_ISSUER : undefined);
  const principal = benchPrincipal(FIXED_ISSUER, BENCH_USERS[0], ['read:profile', 'read:email', 'read:orders', 'write:orders']);
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
  const app = Fastify({ logger: false });
  const options: ApolloServerOptions<PlainContext> =
    variant === 'baseline'
      ? { schema, plugins: [fastifyApolloDrainPlugin(app)] }
      : {
          schema,
          includeStacktraceInErrorResponses: false,
          plugins: [ApolloServerPluginCacheControlDisabled(), fastifyApolloDrainPlugin(app), ...executorPlugins(config, schema)],
        };
  const apollo = new ApolloServer<PlainContext>(options);
  const cursors = createCursorCodec(config.cursorSecret);
  await apollo.start();
  const context = async (request: FastifyRequest): Promise<PlainContext> => ({ requestId: String(request.id), principal, deps: createRequestDeps(database.db, { cursors }), log: silentLogger });
  await app.register(fastifyApollo(apollo), { context });
  return listen(app, undefined, variant === 'baseline' ? 'graphql-js (Apollo default)' : config.graphql.executor, database);
}

/**
 * (3') authn-only: the project's request path with only the authorization layer taken out,
 * composed here from the parts `createServer` uses: its Fastify app (request ids, HTTP limits),
 * its authentication set-up (development issuer, verified-token cache, DPoP), its context
 * function and `requestContextBuilder`, its Apollo options (executor, limits, error formatting,
 * catalog response cache, shared product rows), its /graphql route; but the schema without the
 * authorization transform and Apollo without the authorization plugin. No metadata, health or
 * landing-page routes (not on the measured path). src has no switch for this: `createServer`
 * always serves with the layer, so this must be kept in step with `src/server.ts` by hand.
 */
export async function startAuthnOnly(dataDir: string, seed: boolean): Promise<Running> {
  const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT);
  const tokens = tokenSettings(config);
  const database = await openDatabase(config.database, seed ? tokens.issuer : undefined);
  const app = createFastifyApp(config, false);
  let authentication: AuthenticationSetup | undefined;
  let apollo: ApolloServer<RequestContext> | undefined;
  app.addHook('onClose', async () => {
    await apollo?.stop();
    await authentication?.close();
  });
  try {
    const { index } = buildSchema();
    const schema = executableSchema();
    authentication = await setUpAuthentication({ config, catalog: index.scopes.map((s) => s.name), log: app.log });
    const analyzer = new OperationAnalyzer(index);
    apollo = layerlessApollo({
      analyzer,
      schema,
      executor: config.graphql.executor,
      batching: config.graphql.batchMax > 0,
      logger: app.log,
      limits: config.limits,
      persistedDocuments: setUpPersistedDocuments(config.persistedDocuments, schema, index),
      plugins:
        config.graphql.catalogCacheEntries > 0
          ? [publicResponseCachePlugin<RequestContext>({ analyzer, rootFields: CATALOG_ROOT_FIELDS, readVersion: () => readCatalogVersion(database.db), maxEntries: config.graphql.catalogCacheEntries })]
          : [],
    });
    await apollo.start();
    const products = config.graphql.productCacheEntries > 0 ? new ProductRowCache({ maxEntries: config.graphql.productCacheEntries }) : undefined;
    const cursors = createCursorCodec(config.cursorSecret);
    const context = authenticatedContext(authentication, requestContextBuilder({ db: database.db, index, mode: config.authorization.mode, products, cursors }));
    await app.register(graphqlRoute, { apollo, context, limits: { batchMax: config.graphql.batchMax, maxTokens: config.limits.maxTokens }, http: config.http });
  } catch (error) {
    await app.close().catch(() => undefined);
    await database.close();
    throw error;
  }
  return listen(app, tokens, config.graphql.executor, database);
}

async function listen(app: FastifyInstance, tokens: TokenSettings | undefined, executor: string, database: Database): Promise<Running> {
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      url: address,
      executor,
      ...(tokens ? { tokens } : {}),
      async close() {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    await database.close();
    throw error;
  }
}

