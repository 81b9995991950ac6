/**
 * `npm run bench`: the cost of authentication and authorization per request, in-process.
 * - token verification, RS256 and ES256: a never-seen token as the server verifies it against jose's
 *   jwtVerify alone, in alternating rounds of process CPU per token; and a cached repeat;
 * - authorization of the contract's largest query: the pre-execution plan cold and from the plan cache;
 * - the whole pipeline (executeOperation on SQLite) for that query, with and without the authorization layer.
 * Figures are printed, never asserted. `--quick` runs fewer iterations.
 */
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
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

/** Rounds of never-seen tokens that visit the variants in turn (each round one further along), so drift of a shared machine spreads over all of them. */
const FRESH_ROUNDS = quick ? 4 : 16;
const FRESH_PER_ROUND = quick ? 100 : 300;

async function tokenBench(): Promise<void> {
  console.log('\nToken verification (local key set, no network); never-seen tokens: process CPU per token (crypto threads included), median of rounds and their range');
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
    const tokens = await Promise.all(Array.from({ length: 3 * FRESH_PER_ROUND * (FRESH_ROUNDS + 1) }, (_, i) => sign(i)));
    const jwks = createLocalJWKSet({ keys: [jwk] });
    const verifier = createTokenVerifier({ issuer, audience, keys: { keys: [jwk] } });
    // The server's path: the issuer router (its verified-token cache missed, then filled) in front of the verifier.
    const router = createIssuerRouter([{ issuer, jwt: createTokenVerifier({ issuer, audience, keys: { keys: [jwk] } }) }]);
    const variants: Array<[string, (token: string) => Promise<unknown>]> = [
      [`${alg} jose jwtVerify alone (createLocalJWKSet, iss, aud)`, (token) => jwtVerify(token, jwks, { issuer, audience, algorithms: [alg] })],
      [`${alg} createTokenVerifier (header, claims, principal)`, (token) => verifier.verify(token)],
      [`${alg} never-seen token as the server verifies it (router)`, (token) => router.verify(token)],
    ];
    const perRound = new Map<string, number[]>(variants.map(([label]) => [label, []]));
    let next = 0;
    for (let round = 0; round <= FRESH_ROUNDS; round++) {
      for (let k = 0; k < variants.length; k++) {
        const [label, verify] = variants[(k + round) % variants.length]!;
        const before = process.cpuUsage();
        for (let i = 0; i < FRESH_PER_ROUND; i++) await verify(tokens[next++]!);
        const used = process.cpuUsage(before);
        if (round > 0) perRound.get(label)!.push((used.user + used.system) / FRESH_PER_ROUND); // round 0 warms up
      }
    }
    const medians = new Map<string, number>();
    for (const [label, values] of perRound) {
      values.sort((a, b) => a - b);
      const median = values[values.length >> 1]!;
      medians.set(label, median);
      console.log(`${label.padEnd(62)} ${median.toFixed(1).padStart(9)} µs/op  (rounds ${values[0]!.toFixed(0)}–${values[values.length - 1]!.toFixed(0)}, ${FRESH_ROUNDS} × ${FRESH_PER_ROUND})`);
    }
    const [jose, , server] = variants.map(([label]) => medians.get(label)!);
    console.log(`${`${alg} never-seen token against jose alone`.padEnd(62)} ${(server! / jose!).toFixed(2).padStart(9)} ×`);
    await router.verify(tokens[0]!);
    await timeIt(`${alg} cached repeat`, N * 10, () => router.verify(tokens[0]!));
    verifier.close();
    router.close();
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
