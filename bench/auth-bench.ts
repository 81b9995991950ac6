/**
 * `npm run bench`: the cost of authentication and authorization per request, in-process.
 * - token verification: a first verification (signature work) against a cached repeat, RS256 and ES256;
 * - authorization of the contract's largest query: the pre-execution plan cold and from the plan cache;
 * - the whole pipeline (executeOperation on SQLite) for that query, with and without the authorization layer.
 * Figures are printed, never asserted. `--quick` runs fewer iterations.
 */
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createIssuerRouter } from '../src/auth/issuers/issuer-router.js';
import { createChallengeBuilder } from '../src/auth/challenge-builder.js';
import { createTokenVerifier } from '../src/auth/jwt/jwt-verifier.js';
import { FieldGuard } from '../src/authz/field-guard.js';
import { OperationAnalyzer } from '../src/authz/operation-analyzer.js';
import { planAnalysedOperation, planOperation } from '../src/authz/operation-plan.js';
import { PlanCache } from '../src/authz/plan-cache.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seedCatalog } from '../src/db/seed.js';
import { createApollo } from '../src/graphql/apollo-server.js';
import { createCursorCodec } from '../src/domain/cursor-codec.js';
import { type RequestContext, createRequestContext } from '../src/graphql/context.js';
import { resolvers } from '../src/graphql/resolvers/index.js';
import { buildSchema, executableSchema, loadTypeDefs } from '../src/graphql/schema.js';
import { layerlessApollo } from './lib/layerless-apollo.js';
import { silentLogger } from '../src/logger.js';
import type { UserPrincipal } from '../src/auth/principal.js';

const quick = process.argv.includes('--quick');
const N = quick ? 300 : 3000;

async function timeIt(label: string, iterations: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn(i);
  const us = ((performance.now() - start) * 1000) / iterations;
  console.log(`${label.padEnd(62)} ${us.toFixed(1).padStart(9)} µs/op  (${iterations} ops)`);
  return us;
}

async function tokenBench(): Promise<void> {
  console.log('\nToken verification (local key set, no network)');
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg };
    const issuer = 'https://as.bench';
    const audience = 'https://api.bench';
    const sign = (i: number) =>
      new SignJWT({ scope: 'read:profile read:orders', client_id: 'app' })
        .setProtectedHeader({ alg, kid: 'k1', typ: 'at+jwt' })
        .setIssuer(issuer).setAudience(audience).setSubject(`user-${i}`).setIssuedAt().setExpirationTime('1h').setJti(`j${i}`)
        .sign(privateKey);
    const tokens = await Promise.all(Array.from({ length: N + 200 }, (_, i) => sign(i)));
    const cold = createTokenVerifier({ issuer, audience, keys: { keys: [jwk] } });
    await timeIt(`${alg} first verification (signature + claims)`, N, (i) => cold.verify(tokens[i]!));
    // The one verified-token cache is the issuer router's, as the server builds it.
    const warm = createIssuerRouter([{ issuer, jwt: createTokenVerifier({ issuer, audience, keys: { keys: [jwk] } }) }]);
    await warm.verify(tokens[0]!);
    await timeIt(`${alg} cached repeat`, N * 10, () => warm.verify(tokens[0]!));
    cold.close();
    warm.close();
  }
}

const LARGEST = `query Largest($after: String) {
  me { id displayName email createdAt
    orders(first: 20, after: $after) { pageInfo { hasNextPage endCursor }
      edges { cursor node { id status placedAt total { amount currency } customer { id displayName }
        items { quantity unitPrice { amount currency } product { id name description price { amount currency } inStock } } } } } }
  products(first: 20) { edges { node { id name price { amount currency } inStock } } }
}`;

const principal: UserPrincipal = Object.freeze({
  kind: 'user', subject: 'bench-user', issuer: 'https://as.bench', clientId: 'app',
  scopes: new Set(['read:profile', 'read:email', 'read:orders', 'write:orders']), audience: ['https://api.bench'],
  expiresAt: undefined, tokenId: undefined, acr: undefined, authTime: undefined, name: 'Bench',
});

async function authzBench(): Promise<void> {
  console.log('\nAuthorization of the largest contract query (me + 20 orders × items × products + 20 products)');
  const { schema, index } = buildSchema();
  const document = parse(LARGEST);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  const plan = () => planOperation({ schema, index, guard: new FieldGuard(principal, 'filter', index), operation, fragments, variables: {} });
  await timeIt('plan, cold (no cache)', N, plan);
  const cache = new PlanCache();
  const analyzer = new OperationAnalyzer(index);
  const guard = new FieldGuard(principal, 'filter', index);
  await timeIt('plan, warm (analysis and plan cache hit)', N * 10, () => {
    const analysis = analyzer.analyse({ schema, document }, operation, {});
    return cache.getOrCompute(analysis, principal, () => planAnalysedOperation(analysis, guard));
  });
}

async function pipelineBench(): Promise<void> {
  console.log('\nWhole pipeline through executeOperation on SQLite (20 orders × 3 items)');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const database = await createDatabase({ kind: 'sqlite', filename: path.join(dir, 'bench.db') });
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
    const { schema, index } = buildSchema();
    const withAuthz = createApollo({ schema, index, mode: 'filter', challenges: createChallengeBuilder({ realm: 'bench', resourceMetadataUrl: 'bench' }), logger: silentLogger });
    // The same build with the authorization layer removed: no transform, no plugin.
    const plainSchema = executableSchema();
    const withoutAuthz = layerlessApollo({ schema: plainSchema, analyzer: new OperationAnalyzer(index), executor: 'jit', logger: silentLogger });
    const vanilla = new ApolloServer<RequestContext>({ schema: makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers }) });
    await withAuthz.start();
    await withoutAuthz.start();
    await vanilla.start();
    const cursors = createCursorCodec();
    const ctx = () => createRequestContext({ requestId: 'b', principal, db: database.db, index, mode: 'filter', log: silentLogger, cursors });
    // 20 orders of 3 items for the bench user.
    const { placeOrder } = await import('../src/domain/orders/order-service.js');
    await database.db.updateTable('products').set({ stock: 100000 }).execute();
    for (let i = 0; i < 20; i++) {
      await placeOrder(ctx().deps, principal, { items: [1, 2, 3].map((p) => ({ productId: ((i + p) % 40) + 1, quantity: 1 })) });
    }
    const run = (server: ApolloServer<RequestContext>) => async () => {
      const r = await server.executeOperation({ query: LARGEST }, { contextValue: ctx() });
      if (r.body.kind !== 'single' || r.body.singleResult.errors) throw new Error(JSON.stringify(r.body));
    };
    const iterations = Math.max(100, Math.floor(N / 5));
    // Interleaved rounds, best of each, so JIT warm-up and machine noise do not favour either side.
    let a = Infinity;
    let b = Infinity;
    for (let round = 0; round < 3; round++) {
      a = Math.min(a, await timeIt(`with authorization (plan cache warm), round ${round + 1}`, iterations, run(withAuthz)));
      b = Math.min(b, await timeIt(`authorization layer removed (same build otherwise), round ${round + 1}`, iterations, run(withoutAuthz)));
    }
    await timeIt('vanilla Apollo defaults, no authorization', iterations, run(vanilla));
    console.log(`authorization overhead on the whole request: ${(((a - b) / b) * 100).toFixed(1)}%`);
    await withAuthz.stop();
    await withoutAuthz.stop();
    await vanilla.stop();
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run`);
await tokenBench();
await authzBench();
await pipelineBench();
