/**
 * `npx tsx bench/apollo-handler-bench.ts`: what `src/http/apollo-handler.ts` (a copy of
 * `@as-integrations/fastify`'s handler that reads the query string from Node's request line
 * instead of building a `URL` per request) saves against the library's own handler.
 *
 * In process, one Fastify app, one started Apollo Server with the project's options and
 * authorization, the same context function and the same preHandler; two routes that differ only
 * in the handler. Fastify's `inject` (no socket), requests one after another. ROUNDS rounds of
 * REQUESTS requests per variant, the order of the two alternating per round; per round the time
 * per request (wall clock and process CPU), then the median over rounds per variant and the
 * median and range of the paired differences (library minus copy). A third pair of routes puts
 * the two handlers in front of an Apollo stand-in that answers at once: the handlers' own cost,
 * without the noise of executing a query. Figures are printed only.
 *
 * Environment: ROUNDS (default 20), REQUESTS (default 3000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { OperationAnalyzer } from '../src/authz/operation-analyzer.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seedCatalog } from '../src/db/seed.js';
import { readCatalogVersion } from '../src/domain/catalog/product-repository.js';
import { ProductRowCache } from '../src/domain/catalog/product-row-cache.js';
import { createCursorCodec } from '../src/domain/cursor-codec.js';
import { createApollo } from '../src/graphql/apollo-server.js';
import { type RequestContext, requestContextBuilder } from '../src/graphql/context.js';
import { publicResponseCachePlugin } from '../src/graphql/public-response-cache.js';
import { buildSchema } from '../src/graphql/schema.js';
import { authenticatedContext } from '../src/http/authenticated-context.js';
import { setUpAuthentication } from '../src/http/authentication-setup.js';
import { createFastifyApp } from '../src/http/fastify-app.js';
import { apolloHandler } from '../src/http/apollo-handler.js';
import { graphqlRequestLimits } from '../src/http/graphql-request-limits.js';
import { graphqlRoute } from '../src/http/graphql-route.js';
import { graphqlBodyLimitErrorHandler } from '../src/http/http-limits.js';
import { CATALOG_ROOT_FIELDS } from '../src/server.js';
import { loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { BENCH_USERS, seedBenchData } from './lib/seed.js';
import { PROJECT_ROOT, benchEnv, tokenSettings } from './lib/servers.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 20);
const REQUESTS = Number(process.env['REQUESTS'] ?? 3000);

const dataDir = mkdtempSync(path.join(tmpdir(), 'apollo-handler-bench-'));
const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT);
const tokens = tokenSettings(config);
const database = await createDatabase(config.database);
await migrateToLatest(database.db);
await seedCatalog(database.db);
await seedBenchData(database.db, tokens.issuer);

const app = createFastifyApp(config, false);
const { schema, index } = buildSchema();
const authentication = await setUpAuthentication({ config, catalog: index.scopes.map((s) => s.name), log: app.log });
const analyzer = new OperationAnalyzer(index);
const apollo = createApollo({
  analyzer,
  schema,
  index,
  mode: config.authorization.mode,
  executor: config.graphql.executor,
  batching: false,
  challenges: authentication.challenges,
  logger: app.log,
  limits: config.limits,
  plugins: [publicResponseCachePlugin<RequestContext>({ analyzer, rootFields: CATALOG_ROOT_FIELDS, readVersion: () => readCatalogVersion(database.db), maxEntries: config.graphql.catalogCacheEntries })],
});
await apollo.start();
const products = new ProductRowCache({ maxEntries: config.graphql.productCacheEntries });
const cursors = createCursorCodec(config.cursorSecret);
const context = authenticatedContext(authentication, requestContextBuilder({ db: database.db, index, mode: config.authorization.mode, products, cursors }));
const limits = { batchMax: config.graphql.batchMax, maxTokens: config.limits.maxTokens };
await app.register(graphqlRoute, { apollo, context, limits, http: config.http });
app.route({
  url: '/graphql-library',
  method: ['GET', 'POST', 'OPTIONS'],
  preHandler: graphqlRequestLimits(limits),
  handler: fastifyApolloHandler(apollo, { context }),
  errorHandler: graphqlBodyLimitErrorHandler(config.http),
});
// The handlers alone: an Apollo stand-in that answers at once, so nothing but Fastify, the
// request conversion and the reply is measured (what the copy can save, without the noise of a query).
const STUB_BODY = '{"data":{"me":{"displayName":"x"}}}';
const stub = {
  assertStarted: () => undefined,
  executeHTTPGraphQLRequest: async () => ({ status: 200, headers: new HeaderMap([['content-type', 'application/json; charset=utf-8']]), body: { kind: 'complete' as const, string: STUB_BODY } }),
} as unknown as ApolloServer<RequestContext>; // only the two members the handlers call
const noContext = async () => ({}) as RequestContext; // the stand-in never calls it
app.route({ url: '/stub-copy', method: ['POST'], preHandler: graphqlRequestLimits(limits), handler: apolloHandler(stub, noContext) });
app.route({ url: '/stub-library', method: ['POST'], preHandler: graphqlRequestLimits(limits), handler: fastifyApolloHandler(stub, { context: noContext }) });
await app.ready();

const issuer = await loadOrCreateDevIssuer(tokens);
const token = await issuer.sign({ sub: BENCH_USERS[0].subject, name: BENCH_USERS[0].name, scope: 'read:profile read:orders', expiresInSec: 3600 });
const QUERIES = [
  { name: 'Q1 `{ me { displayName } }`, token', query: '{ me { displayName } }', token },
  { name: 'Q3 catalog, anonymous (response cache)', query: '{ products(first: 20) { edges { node { id name price { amount currency } inStock } } } }', token: undefined },
  { name: 'the handlers alone (Apollo stand-in answering at once), Q1 request with its token', query: '{ me { displayName } }', token, stub: true },
];
const ROUTES = {
  real: [
    { name: 'copy (src/http/apollo-handler.ts)', url: '/graphql' },
    { name: 'library (fastifyApolloHandler)', url: '/graphql-library' },
  ],
  stub: [
    { name: 'copy, Apollo stand-in', url: '/stub-copy' },
    { name: 'library, Apollo stand-in', url: '/stub-library' },
  ],
} as const;

async function round(url: string, query: string, bearer: string | undefined): Promise<{ wallUs: number; cpuUs: number }> {
  const payload = JSON.stringify({ query });
  const headers = { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await app.inject({ method: 'POST', url, headers, payload });
    if (r.statusCode !== 200 || r.body.includes('"errors"') || !r.body.startsWith('{"data"')) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
  }
  const wall = Number(process.hrtime.bigint() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { wallUs: wall / REQUESTS, cpuUs: (used.user + used.system) / REQUESTS };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f = (x: number) => x.toFixed(2);

console.log(`${ROUNDS} rounds × ${REQUESTS} requests per variant and query, executor ${config.graphql.executor}, Node ${process.version}`);
for (const q of QUERIES) {
  const VARIANTS = 'stub' in q ? ROUTES.stub : ROUTES.real;
  for (const v of VARIANTS) await round(v.url, q.query, q.token); // warm-up
  const results = VARIANTS.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const m = await round(VARIANTS[i]!.url, q.query, q.token);
      results[i]!.wall.push(m.wallUs);
      results[i]!.cpu.push(m.cpuUs);
    }
  }
  console.log(`\n${q.name}`);
  console.log('| variant | wall µs/req, median (min–max) | CPU µs/req, median (min–max) |\n|---|--:|--:|');
  VARIANTS.forEach((v, i) => {
    const { wall, cpu } = results[i]!;
    console.log(`| ${v.name} | ${f(median(wall))} (${f(Math.min(...wall))}–${f(Math.max(...wall))}) | ${f(median(cpu))} (${f(Math.min(...cpu))}–${f(Math.max(...cpu))}) |`);
  });
  const dWall = results[0]!.wall.map((w, r) => results[1]!.wall[r]! - w);
  const dCpu = results[0]!.cpu.map((c, r) => results[1]!.cpu[r]! - c);
  console.log(`| library − copy, paired rounds | ${f(median(dWall))} (${f(Math.min(...dWall))} to ${f(Math.max(...dWall))}) | ${f(median(dCpu))} (${f(Math.min(...dCpu))} to ${f(Math.max(...dCpu))}) |`);
}

await app.close();
await database.close();
rmSync(dataDir, { recursive: true, force: true });
