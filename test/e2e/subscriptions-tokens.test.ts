/**
 * Subscriptions and the tokens that open them, beyond test/e2e/subscriptions.test.ts: a revoked
 * (introspected) token stops receiving events, DPoP-bound tokens on the upgrade request, the
 * per-subject bound over several sockets, and the connection_init deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { type DpopKey, type TestAuthorizationServer, createDpopKey, signDpopProof, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { manifestEntry, writeManifest } from '../fixtures/persisted-documents.js';
import { type TestWsClient, until, wsClient } from '../fixtures/ws-client.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders', 'admin:orders'];
const ORDER_EVENTS = 'subscription { orderEvents { status order { id } } }';
const PLACE = 'mutation Place { placeOrder(input: { items: [{ productId: "UHJvZHVjdDox", quantity: 1 }] }) { orderId } }';

const clients: TestWsClient[] = [];
const open = (server: TestHttpServer, options: Parameters<typeof wsClient>[1] = {}) => {
  const c = wsClient(server.url, options);
  clients.push(c);
  return c;
};
afterAll(async () => {
  for (const c of clients) await c.dispose().catch(() => undefined);
});

/** Places orders until `sub` has received one (graphql-ws does not acknowledge a subscribe, so this is how a test knows it is live). */
async function placeUntilDelivered(server: TestHttpServer, buyer: string, sub: { events: unknown[]; errors: unknown }): Promise<void> {
  const end = Date.now() + 10_000;
  while (sub.events.length === 0) {
    if (sub.errors !== undefined || Date.now() > end) throw new Error(`no event delivered (errors: ${JSON.stringify(sub.errors)})`);
    const placed = await server.graphql(PLACE, { token: buyer });
    expect(placed.status).toBe(200);
    await until(() => sub.events.length > 0, 'an event', 200).catch(() => undefined);
  }
}

describe('an introspected token revoked while its subscription is open', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    server = await startHttpServer({
      OAUTH_ISSUER: as.issuer,
      OAUTH_AUDIENCE: AUDIENCE,
      OAUTH_CLIENT_ID: as.confidentialClient.clientId,
      OAUTH_CLIENT_SECRET: as.confidentialClient.clientSecret,
      OAUTH_INTROSPECTION_CACHE_TTL: '1',
    });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('closes the socket 4401 within OAUTH_INTROSPECTION_CACHE_TTL, and delivers nothing after the revocation is seen', async () => {
    const token = await as.clientCredentialsToken('read:orders admin:orders write:orders');
    // Orders are placed by a customer (a user token); the subscriber is a back office client.
    const writer = await as.userToken({ sub: 'revocation-buyer', scope: 'write:orders' });
    const c = open(server, { token });
    const sub = c.subscribe(ORDER_EVENTS);
    // graphql-ws does not acknowledge a subscribe: order until one is delivered (the subscription is live).
    await placeUntilDelivered(server, writer, sub);
    const delivered = sub.events.length;

    await as.revoke(token);
    const revokedAt = Date.now();
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    // Re-checked when the cached result (1 s) expires: well within a few seconds, never before the revocation.
    expect(closed.at).toBeGreaterThanOrEqual(revokedAt);
    expect(closed.at - revokedAt).toBeLessThan(5000);
    const after = await server.graphql(PLACE, { token: writer });
    expect(after.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sub.events).toHaveLength(delivered);
  });
});

describe('DPoP-bound tokens and subscriptions', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  let key: DpopKey;
  let token: string;
  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: '2', WS_CONNECTION_INIT_TIMEOUT_MS: '300' });
    key = await createDpopKey('ES256');
    token = await as.dpopClientCredentialsToken('read:orders admin:orders write:orders', key);
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  const upgradeHeaders = async (proofKey: DpopKey = key) => ({
    authorization: `DPoP ${token}`,
    dpop: await signDpopProof(proofKey, { htm: 'GET', htu: `${server.url}/graphql`, accessToken: token }),
  });

  it('accepts a DPoP-bound token with a proof on the upgrade request, and delivers events', async () => {
    const c = open(server, { headers: await upgradeHeaders() });
    const sub = c.subscribe(ORDER_EVENTS);
    await placeUntilDelivered(server, await as.userToken({ sub: 'dpop-buyer', scope: 'write:orders' }), sub);
    expect(sub.errors).toBeUndefined();
  });

  it('refuses a DPoP-bound token sent as a bearer token in connection_init (4401)', async () => {
    const c = open(server, { token });
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
  });

  it('refuses the DPoP scheme on the upgrade without a proof (4400) and with a proof of another key (4401)', async () => {
    const noProof = open(server, { headers: { authorization: `DPoP ${token}` } });
    expect((await noProof.closed).code).toBe(4400);
    const otherKey = await createDpopKey('ES256');
    const wrongKey = open(server, { headers: await upgradeHeaders(otherKey) });
    expect((await wrongKey.closed).code).toBe(4401);
  });

  it("bounds one subject's subscriptions over all its sockets (WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL)", async () => {
    // The first test's socket may still hold one; fresh sockets, then count what is refused.
    const first = open(server, { headers: await upgradeHeaders() });
    const second = open(server, { headers: await upgradeHeaders() });
    const subs = [first.subscribe(ORDER_EVENTS), second.subscribe(ORDER_EVENTS), first.subscribe(ORDER_EVENTS), second.subscribe(ORDER_EVENTS)];
    await until(() => subs.filter((s) => s.errors !== undefined).length >= 2, 'the subscriptions over the bound to be refused');
    const refused = subs.filter((s) => s.errors !== undefined);
    for (const s of refused) expect(s.errors!.map((e) => e.extensions?.['code'])).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(subs.length - refused.length).toBeLessThanOrEqual(2);
  });

  it('closes a socket that never sends connection_init with 4408', async () => {
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
    expect(code).toBe(4408);
  });
});

describe('orderUpdated(id:)', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  const ORDER_UPDATED = 'subscription ($id: ID!) { orderUpdated(id: $id) { id status } }';
  const moveTo = async (admin: string, id: string, status: string) => {
    const r = await server.graphql(`mutation { updateOrderStatus(id: "${id}", status: ${status}) { id status } }`, { token: admin });
    expect(r.body.errors).toBeUndefined();
  };

  it("sends the owner each change of that order, nothing to another customer, and refuses it without read:orders", async () => {
    const alice = await as.userToken({ sub: 'updated-alice', scope: 'read:orders write:orders' });
    const bob = await as.userToken({ sub: 'updated-bob', scope: 'read:orders write:orders' });
    const aliceNoScope = await as.userToken({ sub: 'updated-alice', scope: 'write:orders' });
    const admin = await as.clientCredentialsToken('read:orders admin:orders');
    const placed = await server.graphql(PLACE, { token: alice });
    const id = (placed.body.data!['placeOrder'] as { orderId: string }).orderId;

    const owner = open(server, { token: alice }).subscribe(ORDER_UPDATED, { id });
    const stranger = open(server, { token: bob }).subscribe(ORDER_UPDATED, { id });
    const unscoped = open(server, { token: aliceNoScope }).subscribe(ORDER_UPDATED, { id });
    await until(() => unscoped.errors !== undefined, 'the refusal without read:orders');
    expect(unscoped.errors!.map((e) => [e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['FORBIDDEN', ['read:orders']]]);

    // graphql-ws does not acknowledge a subscribe: move the order until the owner hears of it.
    const statuses = ['PAID', 'SHIPPED', 'DELIVERED'];
    let step = 0;
    const end = Date.now() + 10_000;
    while (owner.events.length === 0 && step < statuses.length && Date.now() < end) {
      await moveTo(admin, id, statuses[step++]!);
      await until(() => owner.events.length > 0, 'an update', 300).catch(() => undefined);
    }
    expect(owner.events.length).toBeGreaterThan(0);
    const seen = owner.events.length;
    for (; step < statuses.length; step++) await moveTo(admin, id, statuses[step]!);
    const lastStatus = () => (owner.events.at(-1)?.data?.['orderUpdated'] as { status: string } | undefined)?.status;
    await until(() => lastStatus() === 'DELIVERED', 'the last update');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(owner.events.length).toBeGreaterThanOrEqual(seen);
    const delivered = owner.events.map((e) => (e.data?.['orderUpdated'] as { id: string; status: string }));
    expect(delivered.every((o) => o.id === id)).toBe(true);
    expect(delivered.map((o) => o.status).at(-1)).toBe('DELIVERED');
    expect(stranger.events).toEqual([]);
    expect(stranger.errors).toBeUndefined();
  });
});

describe('trusted documents and subscriptions (PERSISTED_DOCUMENTS_MODE=enforce)', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  const TRUSTED = 'subscription TrustedEvents { orderEvents { status } }';
  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    server = await startHttpServer({
      OAUTH_ISSUER: as.issuer,
      OAUTH_AUDIENCE: AUDIENCE,
      PERSISTED_DOCUMENTS_FILE: writeManifest([manifestEntry('TrustedEvents', 'subscription', TRUSTED), manifestEntry('Place', 'mutation', PLACE)]),
      PERSISTED_DOCUMENTS_MODE: 'enforce',
      PERSISTED_DOCUMENTS_BYPASS_SCOPE: 'admin:orders',
    });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('refuses a subscription document not in the manifest, runs a trusted one, and lets the bypass scope send any', async () => {
    const reader = await as.clientCredentialsToken('read:orders');
    const unknown = open(server, { token: reader }).subscribe(ORDER_EVENTS);
    await until(() => unknown.errors !== undefined, 'the refusal');
    expect(unknown.errors!.map((e) => e.extensions?.['code'])).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);

    const trusted = open(server, { token: reader }).subscribe(TRUSTED);
    const bypass = open(server, { token: await as.clientCredentialsToken('read:orders admin:orders') }).subscribe(ORDER_EVENTS);
    const buyer = await as.userToken({ sub: 'trusted-buyer', scope: 'write:orders' });
    await placeUntilDelivered(server, buyer, bypass);
    expect(bypass.errors).toBeUndefined();
    expect(trusted.errors).toBeUndefined();
  });
});
