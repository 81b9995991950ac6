import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { toGlobalId } from '../../src/graphql/global-id.js';
import { createDpopKey, signDpopProof, type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { postgresTarget } from '../fixtures/databases.js';
import { type IntrospectionProxy, startIntrospectionProxy } from '../fixtures/introspection-proxy.js';
import { type ScratchDatabase, createScratchDatabase, sqlOn } from '../fixtures/scratch-postgres.js';
import { TEST_REDIS_URL, redisReachable } from '../fixtures/redis.js';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';

const AUDIENCE = 'https://api.replicas.test/graphql';
// Both replicas behind one address, as behind a load balancer: DPoP proofs name that address (htu).
const PUBLIC_URL = 'http://api.replicas.test';
const SCOPES = ['read:profile', 'read:orders', 'write:orders', 'admin:orders'];
const PRODUCT = 7;
const CATALOG = `{ products(first: 10) { edges { node { id inStock } } } }`;
const PRODUCT_QUERY = `{ product(id: "${toGlobalId('Product', PRODUCT)}") { id inStock } }`;

// Response data is walked by path in each test; its shape is the query's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = { data?: Record<string, any> | null; errors?: Array<{ extensions?: Record<string, unknown> }> };

async function post(base: string, query: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Body }> {
  const r = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Body };
}

const target = postgresTarget();
const redisUp = await redisReachable(TEST_REDIS_URL);
if (target !== undefined && !redisUp) console.info(`Replica tests skipped: nothing answers at ${new URL(TEST_REDIS_URL).host}`);

// Two real server processes (src/main.ts, as `npm start` runs it) on one PostgreSQL database and one Redis.
(target !== undefined && redisUp ? describe : describe.skip)('two replicas on one PostgreSQL and one Redis', () => {
  let database: ScratchDatabase;
  const prefix = `replicas-${randomBytes(6).toString('hex')}:`;
  let as: TestAuthorizationServer;
  let proxy: IntrospectionProxy;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    database = await createScratchDatabase(target!.url!, 'rs_replicas');
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque', dpop: true });
    proxy = await startIntrospectionProxy(`${as.issuer}/token/introspection`);
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      OAUTH_ISSUER: as.issuer,
      OAUTH_AUDIENCE: AUDIENCE,
      OAUTH_CLIENT_ID: as.confidentialClient.clientId,
      OAUTH_CLIENT_SECRET: as.confidentialClient.clientSecret,
      OAUTH_INTROSPECTION_URL: proxy.url,
      PUBLIC_URL,
      CURSOR_SECRET: randomBytes(32).toString('base64'),
    };
    // Started together: both migrate and seed the empty database at once.
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.close();
    await as?.close();
    await database?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }, 60_000);

  it('reads through one replica an order placed through the other, and pages with its cursors', async () => {
    const token = await as.userToken({ sub: 'replica-buyer', scope: 'read:profile read:orders write:orders' });
    const auth = { authorization: `Bearer ${token}` };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const placed = await post(a.url, `mutation { placeOrder(input: { items: [{ productId: "${toGlobalId('Product', 2)}", quantity: 1 }] }) { orderId } }`, auth);
      expect(placed.body.errors).toBeUndefined();
      ids.push(placed.body.data?.['placeOrder'].orderId as string);
    }
    const read = await post(b.url, `{ order(id: "${ids[1]}") { id status items { quantity } } }`, auth);
    expect(read.body.data?.['order']).toEqual({ id: ids[1], status: 'PENDING', items: [{ quantity: 1 }] });

    const page = await post(a.url, '{ me { orders(first: 1) { edges { cursor node { id } } } } }', auth);
    const [edge] = page.body.data?.['me'].orders.edges as Array<{ cursor: string; node: { id: string } }>;
    expect(edge?.node.id).toBe(ids[1]);
    const next = await post(b.url, `{ me { orders(first: 1, after: "${edge?.cursor}") { edges { node { id } } } } }`, auth);
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data?.['me'].orders.edges).toEqual([{ node: { id: ids[0] } }]);
  });

  it("invalidates the other replica's catalog response cache and product-row cache when an order through one changes stock", async () => {
    await sqlOn(database.url, `update products set stock = 1 where id = ${PRODUCT}`);
    const buyer = await as.userToken({ sub: 'last-unit-buyer', scope: 'read:profile write:orders' });
    const reader = { authorization: `Bearer ${await as.clientCredentialsToken('read:orders')}` };
    const inStock = (body: Body) => (body.data?.['products'].edges as Array<{ node: { id: string; inStock: boolean } }>).find((e) => e.node.id === toGlobalId('Product', PRODUCT))?.node.inStock;

    // B answers the anonymous catalog from its cache, and keeps the product row for token requests.
    await post(b.url, CATALOG);
    const cached = await post(b.url, CATALOG);
    expect(cached.headers.get('x-catalog-cache')).toBe('hit');
    expect(inStock(cached.body)).toBe(true);
    expect((await post(b.url, PRODUCT_QUERY, reader)).body.data?.['product']).toEqual({ id: toGlobalId('Product', PRODUCT), inStock: true });

    const placed = await post(a.url, `mutation { placeOrder(input: { items: [{ productId: "${toGlobalId('Product', PRODUCT)}", quantity: 1 }] }) { orderId } }`, { authorization: `Bearer ${buyer}` });
    expect(placed.body.errors).toBeUndefined();

    const after = await post(b.url, CATALOG);
    expect(after.headers.get('x-catalog-cache')).toBeNull();
    expect(inStock(after.body)).toBe(false);
    expect((await post(b.url, PRODUCT_QUERY, reader)).body.data?.['product']).toEqual({ id: toGlobalId('Product', PRODUCT), inStock: false });
  });

  it('refuses at one replica a DPoP proof already used at the other', async () => {
    const key = await createDpopKey('ES256');
    const token = await as.dpopClientCredentialsToken('read:orders admin:orders', key);
    const headers = async () => ({ authorization: `DPoP ${token}`, dpop: await signDpopProof(key, { htm: 'POST', htu: `${PUBLIC_URL}/graphql`, accessToken: token }) });
    const query = '{ orders(first: 1) { edges { node { id } } } }';
    const proof = await headers();
    expect((await post(a.url, query, proof)).status).toBe(200);
    const replay = await post(b.url, query, proof);
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_dpop_proof' });
    // A fresh proof is accepted at B: the refusal was the replay, not the address.
    expect((await post(b.url, query, await headers())).status).toBe(200);
  });

  it('uses at one replica the introspection result the other cached', async () => {
    const token = await as.clientCredentialsToken('read:orders admin:orders');
    const query = '{ orders(first: 1) { edges { node { id } } } }';
    const before = proxy.calls();
    expect((await post(a.url, query, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(proxy.calls() - before).toBe(1);
    expect((await post(b.url, query, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(proxy.calls() - before).toBe(1);
  });
});
