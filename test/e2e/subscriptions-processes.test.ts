/**
 * Events from any process (issue 13): two server processes on one PostgreSQL database
 * (LISTEN/NOTIFY), and `npm run start:cluster` on the embedded SQLite database (the primary relays
 * committed changes between workers). Every committed change reaches every subscriber exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { postgresTarget } from '../fixtures/databases.js';
import { type ScratchDatabase, createScratchDatabase } from '../fixtures/scratch-postgres.js';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';
import { type TestWsClient, until, wsClient } from '../fixtures/ws-client.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders', 'admin:orders'];
const ORDER_EVENTS = 'subscription { orderEvents { status order { id } } }';
const PLACE = 'mutation { placeOrder(input: { items: [{ productId: "UHJvZHVjdDox", quantity: 1 }] }) { orderId } }';

async function place(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: PLACE }) });
  const body = (await response.json()) as { data?: { placeOrder: { orderId: string } }; errors?: unknown };
  if (!body.data) throw new Error(`placeOrder failed: ${JSON.stringify(body.errors)}`);
  return body.data.placeOrder.orderId;
}

const idsOf = (sub: { events: Array<{ data?: Record<string, unknown> | null }> }) => sub.events.map((e) => (e.data?.['orderEvents'] as { order: { id: string } }).order.id);

/** Orders through `writers` in turn until `sub` holds one event (it is live), then `count` more; returns the ids placed after it was live. */
async function placeAfterLive(writers: readonly string[], token: string, sub: { events: Array<{ data?: Record<string, unknown> | null }> }, count: number): Promise<string[]> {
  const end = Date.now() + 15_000;
  for (let i = 0; sub.events.length === 0; i++) {
    if (Date.now() > end) throw new Error('no event delivered');
    await place(writers[i % writers.length]!, token);
    await until(() => sub.events.length > 0, 'an event', 300).catch(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // late deliveries of the probing orders
  sub.events.length = 0;
  const placed: string[] = [];
  for (let i = 0; i < count; i++) placed.push(await place(writers[i % writers.length]!, token));
  return placed;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let as: TestAuthorizationServer;
const clients: TestWsClient[] = [];
beforeAll(async () => {
  as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
});
afterAll(async () => {
  for (const c of clients) await c.dispose().catch(() => undefined);
  await as?.close();
});

const pgUrl = postgresTarget()?.url;
(pgUrl === undefined ? describe.skip : describe)('two server processes on one PostgreSQL database', () => {
  let database: ScratchDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    database = await createScratchDatabase(pgUrl!, 'subs_processes');
    const env = { OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, DATABASE_URL: database.url, CURSOR_SECRET: randomBytes(32).toString('base64url') };
    a = await startServerProcess(env);
    b = await startServerProcess(env);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  it('delivers every order committed through either process to a subscriber of the other, exactly once', async () => {
    const admin = await as.clientCredentialsToken('read:orders admin:orders');
    const buyer = await as.userToken({ sub: 'processes-buyer', scope: 'write:orders' });
    const onB = wsClient(b.url, { token: admin });
    clients.push(onB);
    const sub = onB.subscribe(ORDER_EVENTS);
    const placed = await placeAfterLive([a.url, b.url], buyer, sub, 6);
    await until(() => sub.events.length >= placed.length, 'every event');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...idsOf(sub)].sort()).toEqual([...placed].sort());
  });
});

describe('npm run start:cluster on the embedded SQLite database', () => {
  let cluster: ServerProcess;
  beforeAll(async () => {
    const port = await freePort();
    cluster = await startServerProcess({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, WORKERS: '2', PORT: String(port) }, { entry: 'cluster', workers: 2 });
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('delivers every order committed by any worker to a subscriber on any worker, exactly once', async () => {
    const admin = await as.clientCredentialsToken('read:orders admin:orders');
    const buyer = await as.userToken({ sub: 'cluster-buyer', scope: 'write:orders' });
    // Several subscribers: the primary spreads connections over the workers.
    const subs = [0, 1, 2, 3].map(() => {
      const c = wsClient(cluster.url, { token: admin });
      clients.push(c);
      return c.subscribe(ORDER_EVENTS);
    });
    const placed = await placeAfterLive([cluster.url], buyer, subs[0]!, 8);
    for (const sub of subs) await until(() => idsOf(sub).filter((id) => placed.includes(id)).length >= placed.length, 'every event on every subscriber');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const sub of subs) {
      const seen = idsOf(sub).filter((id) => placed.includes(id));
      expect([...seen].sort()).toEqual([...placed].sort());
    }
  });
});
