import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { postgresTarget } from '../fixtures/databases.js';
import { createScratchDatabase, sqlOn } from '../fixtures/scratch-postgres.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { type TestWsClient, until, wsClient } from '../fixtures/ws-client.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:orders', 'write:orders', 'read:profile'];
const ORDER_EVENTS = 'subscription { orderEvents { status order { id } } }';
const PLACE = 'mutation { placeOrder(input: { items: [{ productId: "UHJvZHVjdDox", quantity: 1 }] }) { orderId } }';

const target = postgresTarget();

/**
 * On PostgreSQL, changes reach subscribers through one LISTEN connection per process. While it is
 * down, changes committed meanwhile are never delivered: a subscriber must be told, not left
 * believing it has seen every change. The LISTEN connection of this test's own database is cut
 * with pg_terminate_backend (the PostgreSQL server keeps running).
 */
(target ? describe : describe.skip)('subscriptions when the LISTEN connection is lost (postgres)', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  let database: { url: string; name: string; drop: () => Promise<void> };
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    const scratch = await createScratchDatabase(target!.url!, 'outage');
    database = { ...scratch, name: new URL(scratch.url).pathname.slice(1) };
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, DATABASE_URL: database.url, METRICS_PORT: '0' });
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose().catch(() => undefined);
    await server?.close();
    await database?.drop();
    await as?.close();
  });

  const cutListen = () =>
    sqlOn(target!.url!, `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database.name}' and query like 'listen %' and pid <> pg_backend_pid()`);

  it('ends each subscription with SERVICE_UNAVAILABLE (events_interrupted), and serves events again once it is back', async () => {
    const alice = await as.userToken({ sub: 'alice-outage', scope: 'read:orders write:orders read:profile' });
    const c = wsClient(server.url, { token: alice });
    clients.push(c);
    const first = c.subscribe(ORDER_EVENTS);
    await until(() => server.subscriptions.active >= 1, 'the subscription');
    const placed = await server.graphql(PLACE, { token: alice });
    expect(placed.body.errors).toBeUndefined();
    await until(() => first.events.length >= 1, 'the first event');

    await cutListen();
    await until(() => first.completed, 'the subscription to end');
    const last = first.events.at(-1)!;
    expect(last.data ?? null).toBeNull();
    expect(last.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['reason']])).toEqual([['SERVICE_UNAVAILABLE', 'events_interrupted']]);
    expect(last.errors?.[0]?.message).toMatch(/subscribe again/i);
    // The ended subscription no longer counts against the connection's and the subject's limits.
    await until(() => server.subscriptions.active === 0, 'the ended subscription to be released');
    const scrape = await (await fetch(`${server.metricsUrl!}/metrics`)).text();
    expect(scrape).toMatch(/^subscriptions_interrupted_total 1$/m);

    // Once the LISTEN connection is back (it reconnects after a second), a new subscription gets
    // the changes committed from then on. Until then a subscribe is refused with the same code.
    // A refused subscribe is answered with its error as the one result, then complete.
    const refusal = (sub: ReturnType<typeof c.subscribe>) => sub.errors ?? (sub.completed ? (sub.events[0]?.errors ?? []) : undefined);
    let again = c.subscribe(ORDER_EVENTS);
    const deadline = Date.now() + 15_000;
    for (;;) {
      await until(() => refusal(again) !== undefined || server.subscriptions.active >= 1, 'an answer to the subscribe');
      const refused = refusal(again);
      if (refused === undefined) break;
      expect(refused.map((e) => [e.extensions?.['code'], e.extensions?.['reason']])).toEqual([['SERVICE_UNAVAILABLE', 'events_unavailable']]);
      if (Date.now() > deadline) throw new Error('the LISTEN connection did not come back');
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = c.subscribe(ORDER_EVENTS);
    }
    const second = await server.graphql(PLACE, { token: alice });
    expect(second.body.errors).toBeUndefined();
    await until(() => again.events.length >= 1, 'an event after the LISTEN connection is back');
    expect(again.events[0]?.errors).toBeUndefined();
    expect(again.completed).toBe(false);
  });
});
