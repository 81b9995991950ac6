import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { postgresTarget } from '../fixtures/databases.js';
import { createScratchDatabase } from '../fixtures/scratch-postgres.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { type TestWsClient, until, wsClient } from '../fixtures/ws-client.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];
const PRODUCT_1 = 'UHJvZHVjdDox';
const PRODUCT_2 = 'UHJvZHVjdDoy';
const ORDER_EVENTS = 'subscription { orderEvents { status previousStatus order { id status total { amount } customer { displayName email } } } }';

const targets: Array<{ name: string; url?: string }> = [{ name: 'sqlite' }, ...(postgresTarget() ? [{ name: 'postgres', url: postgresTarget()!.url! }] : [])];

describe.each(targets)('subscriptions over WebSocket ($name)', (target) => {
  let as: TestAuthorizationServer;
  let a: TestHttpServer;
  let b: TestHttpServer | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const clients: TestWsClient[] = [];
  const open = (server: TestHttpServer, token?: string, headers?: Record<string, string>) => {
    const c = wsClient(server.url, { ...(token ? { token } : {}), ...(headers ? { headers } : {}) });
    clients.push(c);
    return c;
  };
  const mutate = async (server: TestHttpServer, token: string, query: string) => {
    const r = await server.graphql(query, { token });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!;
  };
  const place = async (server: TestHttpServer, token: string, productId = PRODUCT_1) =>
    ((await mutate(server, token, `mutation { placeOrder(input: { items: [{ productId: "${productId}", quantity: 1 }] }) { orderId } }`))['placeOrder'] as { orderId: string }).orderId;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    let env: Record<string, string> = { OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE };
    if (target.url) {
      // NOTIFY is per database: a database of these servers' own.
      const database = await createScratchDatabase(target.url, 'subs');
      dropDatabase = database.drop;
      env = { ...env, DATABASE_URL: database.url };
    }
    a = await startHttpServer(env);
    // A second replica on the same PostgreSQL database (SQLite: one process, see the cluster relay).
    if (target.url) b = await startHttpServer(env);
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose().catch(() => undefined);
    await b?.close();
    await a?.close();
    await dropDatabase?.();
    await as?.close();
  });

  it('delivers an order placed, paid and shipped through HTTP as events in order, with exactly the fields the token may read', async () => {
    const alice = await as.userToken({ sub: `alice-${target.name}`, scope: 'read:orders write:orders read:profile' });
    const admin = await as.clientCredentialsToken('admin:orders read:orders');
    const c = open(a, alice);
    const before = a.subscriptions.active;
    const sub = c.subscribe(ORDER_EVENTS);
    await until(() => a.subscriptions.active >= before + 1, 'the subscription');
    const id = await place(a, alice);
    await mutate(a, admin, `mutation { updateOrderStatus(id: "${id}", status: PAID) { status } }`);
    await mutate(a, admin, `mutation { updateOrderStatus(id: "${id}", status: SHIPPED) { status } }`);
    await until(() => sub.events.length >= 3, 'three events');
    expect(sub.events.map((e) => [(e.data?.['orderEvents'] as { previousStatus: string | null }).previousStatus, (e.data?.['orderEvents'] as { status: string }).status])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'PAID'],
      ['PAID', 'SHIPPED'],
    ]);
    for (const event of sub.events) {
      const order = (event.data?.['orderEvents'] as { order: { id: string; customer: { displayName: string; email: unknown } } }).order;
      expect(order.id).toBe(id);
      // read:email is not granted: null with its error, on every event.
      expect(order.customer.email).toBeNull();
      expect(event.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['orderEvents.order.customer.email', 'FORBIDDEN', ['read:email']]]);
    }
  });

  it("never delivers another customer's order event, not even as a null; admin:orders receives every order's", async () => {
    const alice = await as.userToken({ sub: `alice2-${target.name}`, scope: 'read:orders write:orders' });
    const bob = await as.userToken({ sub: `bob-${target.name}`, scope: 'read:orders write:orders' });
    const admin = await as.clientCredentialsToken('admin:orders read:orders');
    const client = await as.clientCredentialsToken('read:orders');
    const before = a.subscriptions.active;
    const bobs = open(a, bob).subscribe('subscription { orderEvents { order { id } } }');
    const admins = open(a, admin).subscribe('subscription { orderEvents { order { id } } }');
    const clients_ = open(a, client).subscribe('subscription { orderEvents { order { id } } }');
    await until(() => a.subscriptions.active >= before + 3, 'three subscriptions');
    const alicesOrder = await place(a, alice);
    const bobsOrder = await place(a, bob);
    await until(() => bobs.events.length >= 1 && admins.events.length >= 2, 'the events');
    // Bob's first event is his own order: Alice's, committed before it, was never sent to him.
    expect(bobs.events.map((e) => (e.data?.['orderEvents'] as { order: { id: string } }).order.id)).toEqual([bobsOrder]);
    expect(admins.events.map((e) => (e.data?.['orderEvents'] as { order: { id: string } }).order.id)).toEqual([alicesOrder, bobsOrder]);
    // A client acting for itself owns no orders.
    expect(clients_.events).toEqual([]);
  });

  it('answers a denied root field with an error message naming the scopes, and keeps the connection open', async () => {
    const token = await as.userToken({ sub: `carol-${target.name}`, scope: 'read:profile' });
    const c = open(a, token);
    const denied = c.subscribe(ORDER_EVENTS);
    await until(() => denied.errors !== undefined, 'the error');
    expect(denied.errors!.map((e) => [e.extensions?.['code'], e.extensions?.['requiredScopes'], e.extensions?.['missingScopes']])).toEqual([['FORBIDDEN', ['read:orders'], ['read:orders']]]);
    const before = a.subscriptions.active;
    const products = c.subscribe('subscription { productChanged { name inStock } }');
    const buyer = await as.userToken({ sub: `dave-${target.name}`, scope: 'write:orders' });
    await until(() => a.subscriptions.active >= before + 1, 'the product subscription');
    await place(a, buyer, PRODUCT_2);
    await until(() => products.events.length >= 1, 'a product event');
    expect(products.events[0]!.data?.['productChanged']).toMatchObject({ name: expect.any(String) });
  });

  it('lets anonymous connections subscribe to public catalog changes only', async () => {
    const c = open(a);
    const orders = c.subscribe('subscription { orderEvents { status } }');
    await until(() => orders.errors !== undefined, 'the error');
    expect(orders.errors!.map((e) => e.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
    const before = a.subscriptions.active;
    const products = c.subscribe(`subscription { productChanged(id: "${PRODUCT_1}") { id } }`);
    await until(() => a.subscriptions.active >= before + 1, 'the subscription');
    const buyer = await as.userToken({ sub: `erin-${target.name}`, scope: 'write:orders' });
    await place(a, buyer, PRODUCT_2);
    await place(a, buyer, PRODUCT_1);
    await until(() => products.events.length >= 1, 'the event');
    expect(products.events.map((e) => (e.data?.['productChanged'] as { id: string }).id)).toEqual([PRODUCT_1]);
  });

  it('closes a connection with an invalid token with 4401', async () => {
    const c = open(a, 'not-a-valid-token');
    expect((await c.closed).code).toBe(4401);
  });

  it('closes 4401 when the token expires, not earlier, and delivers nothing after', async () => {
    const short = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenTtlSec: 2 });
    const server = await startHttpServer({ OAUTH_ISSUER: short.issuer, OAUTH_AUDIENCE: AUDIENCE, OAUTH_CLOCK_TOLERANCE: '0' });
    try {
      const token = await short.userToken({ sub: 'frank', scope: 'read:orders write:orders' });
      const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
      const c = wsClient(server.url, { token });
      c.subscribe('subscription { orderEvents { status } }');
      const closed = await c.closed;
      expect(closed.code).toBe(4401);
      expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
      await c.dispose();
    } finally {
      await server.close();
      await short.close();
    }
  });

  it('lets a client refresh by reconnecting with a new token', async () => {
    const first = await as.userToken({ sub: `gina-${target.name}`, scope: 'read:orders write:orders' });
    const c1 = open(a, first);
    await c1.client.dispose();
    const second = await as.userToken({ sub: `gina-${target.name}`, scope: 'read:orders write:orders' });
    const before = a.subscriptions.active;
    const sub = open(a, second).subscribe('subscription { orderEvents { order { id } } }');
    await until(() => a.subscriptions.active >= before + 1, 'the subscription');
    const id = await place(a, second);
    await until(() => sub.events.length >= 1, 'the event');
    expect((sub.events[0]!.data?.['orderEvents'] as { order: { id: string } }).order.id).toBe(id);
  });

  it('delivers a change committed through one replica to a subscriber on another (PostgreSQL)', async () => {
    if (b === undefined) return;
    const hank = await as.userToken({ sub: 'hank', scope: 'read:orders write:orders' });
    const sub = open(b, hank).subscribe('subscription { orderEvents { order { id } } }');
    const before = a.subscriptions.active;
    const local = open(a, hank).subscribe('subscription { orderEvents { order { id } } }');
    await until(() => b!.subscriptions.active >= 1 && a.subscriptions.active >= before + 1, 'the subscriptions');
    const id = await place(a, hank);
    await until(() => sub.events.length >= 1 && local.events.length >= 1, 'the events');
    // Exactly once on each replica, the committing one included.
    await place(a, hank);
    await until(() => sub.events.length >= 2 && local.events.length >= 2, 'the second events');
    expect((sub.events[0]!.data?.['orderEvents'] as { order: { id: string } }).order.id).toBe(id);
    expect(sub.events).toHaveLength(2);
    expect(local.events).toHaveLength(2);
  });

  it('closes every socket with 1001 on shutdown', async () => {
    const server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE });
    const c = wsClient(server.url);
    c.subscribe('subscription { productChanged { id } }');
    await until(() => server.subscriptions.active >= 1, 'the subscription');
    await server.close();
    expect((await c.closed).code).toBe(1001);
    await c.dispose();
  });
});

describe('subscription limits', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2', GRAPHQL_MAX_DEPTH: '3', WS_MAX_QUEUED_EVENTS: '1' });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('refuses a subscription over the operation limits with the limit code', async () => {
    const c = wsClient(server.url);
    const deep = c.subscribe('subscription { productChanged { price { amount } id name } } ');
    const deeper = c.subscribe(`subscription { orderEvents { order { customer { displayName } } } }`);
    await until(() => deeper.errors !== undefined, 'the refusal');
    expect(deeper.errors!.map((e) => e.extensions?.['code'])).toEqual(['OPERATION_TOO_DEEP']);
    expect(deep.errors).toBeUndefined();
    await c.dispose();
  });

  it('refuses more subscriptions per connection than allowed with TOO_MANY_SUBSCRIPTIONS', async () => {
    const c = wsClient(server.url);
    c.subscribe('subscription { productChanged { id } }');
    c.subscribe('subscription { productChanged { id } }');
    const third = c.subscribe('subscription { productChanged { id } }');
    await until(() => third.errors !== undefined, 'the refusal');
    expect(third.errors!.map((e) => e.extensions?.['code'])).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    await c.dispose();
  });

  it('cuts off a slow consumer whose queue is full with 4413', async () => {
    const c = wsClient(server.url);
    c.subscribe('subscription { productChanged { id } }');
    await until(() => server.subscriptions.active >= 1, 'the subscription');
    const buyer = await as.userToken({ sub: 'ivy', scope: 'write:orders' });
    // One commit, two product changes delivered at once: one more than the queue holds.
    const r = await server.graphql(`mutation { placeOrder(input: { items: [{ productId: "${PRODUCT_1}", quantity: 1 }, { productId: "${PRODUCT_2}", quantity: 1 }] }) { orderId } }`, { token: buyer });
    expect(r.body.errors).toBeUndefined();
    expect((await c.closed).code).toBe(4413);
    await c.dispose();
  });

  it('refuses subscriptions sent over HTTP with 400', async () => {
    const r = await server.graphql('subscription { productChanged { id } }');
    expect(r.status).toBe(400);
    expect(r.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_REQUEST']);
  });
});
