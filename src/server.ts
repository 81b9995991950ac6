import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { type DevIssuer, loadOrCreateDevIssuer } from './auth/dev-issuer.js';
import { type TokenVerifier, createTokenVerifier } from './auth/token-verifier.js';
import type { Config } from './config.js';
import { type Database, createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedCatalog } from './db/seed.js';
import { authenticate } from './graphql/auth-context.js';
import { createApollo } from './graphql/apollo-server.js';
import { type RequestContext, createRequestContext } from './graphql/context.js';
import { buildSchema } from './graphql/schema.js';
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
  /** Pino options or false to silence logs. */
  readonly logger?: boolean | { level: string };
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

const EXAMPLE_OPERATION = `# Try it: the Authorization header below holds a development token with every scope.
query MyOrders {
  me {
    displayName
    orders(first: 5) {
      edges { node { id status total { amount currency } items { quantity product { name } } } }
    }
  }
  products(first: 3) { edges { node { id name price { amount currency } inStock } } }
}
`;

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
  const { schema, index } = buildSchema();
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // A caller-supplied request id is accepted only if it is short and harmless to log.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });

  const issuerSettings = config.auth.issuer;
  let devIssuer: DevIssuer | undefined;
  let verifier = deps.verifier;
  if (issuerSettings.kind === 'development') {
    devIssuer = await loadOrCreateDevIssuer({ keyFile: issuerSettings.keyFile, issuer: issuerSettings.issuer, audience: config.auth.audience });
    verifier ??= createTokenVerifier({
      issuer: devIssuer.issuer,
      audience: config.auth.audience,
      keys: devIssuer.jwks,
      algorithms: [...config.auth.algorithms],
      tokenTypes: [...config.auth.tokenTypes],
      clockToleranceSec: config.auth.clockToleranceSec,
    });
    app.log.warn({ issuer: devIssuer.issuer }, 'DEVELOPMENT ISSUER: tokens are signed by a local key in data/ — get one with `npm run token`. Never use this in production.');
  } else {
    verifier ??= createTokenVerifier({
      issuer: issuerSettings.issuer,
      audience: config.auth.audience,
      jwksUri: issuerSettings.jwksUri,
      algorithms: [...config.auth.algorithms],
      tokenTypes: [...config.auth.tokenTypes],
      clockToleranceSec: config.auth.clockToleranceSec,
    });
  }
  const tokenVerifier = verifier;
  // Discovery and key loading happen in the background: an authorization server that is down at
  // start-up makes /readyz answer 503 (and retry), not the process crash.
  tokenVerifier.ready().catch((error: unknown) => app.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'authorization server not ready yet'));

  const metadataPath = resourceMetadataPath(config.auth.audience);
  const challenge = { realm: config.auth.audience, resourceMetadataUrl: `${config.publicUrl}${metadataPath}` };
  const authorizationServers = [devIssuer?.issuer ?? (issuerSettings.kind === 'external' ? issuerSettings.issuer : '')];

  const landingPage: ApolloServerPlugin<RequestContext> =
    devIssuer !== undefined
      ? ApolloServerPluginLandingPageLocalDefault({
          embed: { initialState: { pollForSchemaUpdates: false, sharedHeaders: { Authorization: `Bearer ${await devIssuer.sign({ sub: 'dev-user', name: 'Dev User', scope: index.scopes.map((s) => s.name).join(' '), expiresInSec: 12 * 3600 })}` } } },
          document: EXAMPLE_OPERATION,
          includeCookies: false,
        })
      : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false });

  const apollo = createApollo({ schema, index, mode: config.authorization.mode, ...challenge, logger: app.log as unknown as Logger, plugins: [landingPage] });
  await apollo.start();

  const context = async (request: import('fastify').FastifyRequest): Promise<RequestContext> => {
    const log = request.log as unknown as Logger; // pino's child logger satisfies Logger structurally
    const principal = await authenticate(request.raw.rawHeaders ? { headers: request.headers, rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body } : { headers: request.headers, rawHeaders: [] }, tokenVerifier, challenge, log);
    return createRequestContext({ requestId: String(request.id), principal, db: database.db, index, mode: config.authorization.mode, log });
  };
  const handler = fastifyApolloHandler(apollo, { context });
  app.route({ url: '/graphql', method: ['GET', 'POST', 'OPTIONS'], handler });

  const metadata = () => protectedResourceMetadata({ resource: config.auth.audience, authorizationServers, index, documentationUrl: `${config.publicUrl}/graphql` });
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
    if (!auth.ready) reasons.push(`signing keys not loaded${auth.reason ? `: ${auth.reason}` : ''}`);
    return reasons.length === 0 ? { status: 'ready' } : reply.code(503).send({ status: 'not_ready', reasons });
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
    tokenVerifier.close();
  });

  const address = await app.listen({ host: config.host, port: config.port });
  let closed = false;
  return {
    url: address.replace('[::1]', '127.0.0.1'),
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
