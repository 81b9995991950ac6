/**
 * The servers a user would build instead of the project, on the same seeded SQLite data, each
 * with its own SQL through DataLoaders (`plain-sql.ts`), none of src/ on the request path:
 * - apollo: plain Apollo Server 5 on Fastify as its documentation sets it up (default plugins,
 *   graphql-js, `@as-integrations/fastify`), no authentication: the caller is the bearer token's
 *   `sub`, read without verifying anything (the first bench user when there is no token); the
 *   baseline of every ratio;
 * - mercurius: Mercurius with graphql-jit (`jit: 1`) and mercurius-auth enforcing the project's
 *   `@requiresScope` directives, the JWT verified with jose's `jwtVerify` on every request (as
 *   mercurius-auth's users do: in its `authContext`), against the same issuer, audience and key.
 * Both run with Fastify's default logger setting (off).
 */
import { ApolloServer } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { makeExecutableSchema } from '@graphql-tools/schema';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DirectiveNode } from 'graphql';
import { type JSONWebKeySet, createLocalJWKSet, jwtVerify } from 'jose';
import mercurius from 'mercurius';
import mercuriusAuthModule, { type MercuriusAuthOptions } from 'mercurius-auth';
import { loadConfig } from '../../src/config.js';
import { loadTypeDefs } from '../../src/graphql/schema.js';
import { type PlainContext, openPlainData, plainResolvers } from './plain-sql.js';
import type { TokenSettings } from './protocol.js';
import { BENCH_USERS } from './seed.js';
import { PROJECT_ROOT, type Running, benchEnv, openDatabase } from './servers.js';

async function seededFile(dataDir: string, issuer: string, seed: boolean): Promise<string> {
  const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT);
  if (config.database.kind !== 'sqlite') throw new Error('the peers read SQLite');
  if (seed) await (await openDatabase(config.database, issuer, { manyUsers: true })).close();
  return config.database.filename;
}

async function listen(app: FastifyInstance, close: () => void, tokens?: TokenSettings, executor = 'graphql-js'): Promise<Running> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    executor,
    ...(tokens ? { tokens } : {}),
    async close() {
      await app.close();
      close();
    },
  };
}

const FIRST_USER = { issuer: undefined, subject: BENCH_USERS[0].subject, isUser: true };

/** The caller a server without authentication takes from a bearer JWT: its `sub`, nothing verified. */
function unverifiedCaller(authorization: string | undefined): PlainContext['user'] {
  const payload = authorization?.startsWith('Bearer ') ? authorization.slice(7).split('.')[1] : undefined;
  if (payload === undefined) return FIRST_USER;
  try {
    const { sub } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof sub === 'string' ? { issuer: undefined, subject: sub, isUser: true } : FIRST_USER;
  } catch {
    return FIRST_USER;
  }
}

/** Plain Apollo Server 5 + Fastify, default plugins, no authentication (the bench's baseline). */
export async function startApolloPeer(dataDir: string, seed: boolean, tokens: TokenSettings): Promise<Running> {
  const data = openPlainData(await seededFile(dataDir, tokens.issuer, seed));
  const app = Fastify();
  const apollo = new ApolloServer<PlainContext>({ schema: makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: plainResolvers }), plugins: [fastifyApolloDrainPlugin(app)] });
  await apollo.start();
  await app.register(fastifyApollo(apollo), { context: async (request) => ({ data, loaders: data.loaders(), user: unverifiedCaller(request.headers.authorization) }) });
  return listen(app, () => data.close());
}

interface MercuriusAuth {
  readonly issuer: string;
  readonly subject: string;
  readonly isUser: boolean;
  readonly scopes: ReadonlySet<string>;
}

// CommonJS (`module.exports = plugin`) typed with `export default`: at run time the default import is the plugin.
const mercuriusAuth = mercuriusAuthModule as unknown as typeof mercuriusAuthModule.default;

/** Mercurius + graphql-jit + mercurius-auth, jose per request. */
export async function startMercuriusPeer(dataDir: string, seed: boolean, tokens: TokenSettings, jwks: JSONWebKeySet): Promise<Running> {
  const data = openPlainData(await seededFile(dataDir, tokens.issuer, seed));
  const keys = createLocalJWKSet(jwks);
  const app = Fastify();
  await app.register(mercurius, {
    schema: makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: plainResolvers }),
    jit: 1,
    context: () => ({ data, loaders: data.loaders(), user: undefined }),
  });
  const authOptions: MercuriusAuthOptions<unknown, unknown, PlainContext & { reply: { request: { headers: Record<string, string | undefined> } }; auth?: { identity?: MercuriusAuth } }, DirectiveNode | DirectiveNode[]> = {
    authDirective: 'requiresScope',
    async authContext(context): Promise<{ identity: MercuriusAuth | undefined }> {
      const header = context.reply.request.headers.authorization;
      if (header === undefined || !header.startsWith('Bearer ')) return { identity: undefined };
      const { payload } = await jwtVerify(header.slice(7), keys, { issuer: tokens.issuer, audience: tokens.audience });
      const subject = String(payload.sub);
      const identity = { issuer: tokens.issuer, subject, isUser: subject !== payload['client_id'], scopes: new Set(String(payload['scope'] ?? '').split(' ')) };
      (context as { user: PlainContext['user'] }).user = identity; // the resolvers' caller
      return { identity };
    },
    async applyPolicy(policy: DirectiveNode | DirectiveNode[], _parent, _args, context) {
      const identity = context.auth?.identity;
      for (const directive of Array.isArray(policy) ? policy : [policy]) {
        const argument = directive.arguments?.find((a) => a.name.value === 'scope');
        const scope = argument?.value.kind === 'StringValue' ? argument.value.value : undefined;
        if (scope === undefined || identity?.scopes.has(scope) !== true) return new mercurius.ErrorWithProps(`requires ${scope}`, { code: 'FORBIDDEN' });
      }
      return true;
    },
  };
  await app.register(mercuriusAuth, authOptions as unknown as MercuriusAuthOptions); // its context type is Mercurius's, ours extends it
  return listen(app, () => data.close(), tokens, 'graphql-jit (mercurius jit: 1)');
}
