import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { toGlobalId } from '../../src/graphql/global-id.js';
import { databaseTargets } from '../fixtures/databases.js';
import { type FaultProxy, startFaultProxy, waitFor } from '../fixtures/fault-proxy.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const PRODUCT = toGlobalId('Product', 1);
const PLACE = 'mutation ($key: String) { placeOrder(input: { items: [{ productId: "' + PRODUCT + '", quantity: 2 }], idempotencyKey: $key }) { orderId } }';
const READ = '{ products(first: 2) { edges { node { id name } } } }';
const SCOPES = 'read:orders write:orders read:profile';

/** What the server's database looks like, read around the server (not through its pool or proxy). */
interface Rows {
  orders(): Promise<number>;
  items(): Promise<number>;
  stock(): Promise<number>;
  close(): Promise<void>;
}

async function status(server: TestHttpServer, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function expectUnavailable(result: Awaited<ReturnType<TestHttpServer['graphql']>>): void {
  expect(result.status).toBe(503);
  expect(result.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(result.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['DATABASE_UNAVAILABLE']);
  expect(result.body.errors?.[0]?.extensions?.['retryable']).toBe(true);
  expect(result.body.errors?.[0]?.extensions).not.toHaveProperty('http');
  // A clear, coded error: no driver message.
  expect(JSON.stringify(result.body)).not.toMatch(/ECONN|terminat|SQLITE|timeout exceeded|pg_/i);
}

const postgres = databaseTargets().find((target) => target.name === 'postgres');

(postgres === undefined ? describe.skip : describe)('PostgreSQL unavailable (the pool behind a TCP proxy that is cut)', () => {
  const admin = postgres?.url ?? '';
  const name = `faults_${randomBytes(5).toString('hex')}`;
  let proxy: FaultProxy;
  let server: TestHttpServer;
  let rows: Rows;
  let token: string;
  // Set by a test: cut every connection right after this statement completes.
  let cutAfter: RegExp | undefined;

  beforeAll(async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`create database ${name}`);
    await client.end();
    const target = new URL(admin);
    proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(admin);
    viaProxy.host = `${proxy.host}:${proxy.port}`;
    viaProxy.pathname = `/${name}`;
    server = await startHttpServer(
      { DATABASE_URL: viaProxy.href, DATABASE_POOL_SIZE: '4', DATABASE_CONNECT_TIMEOUT_MS: '500', DATABASE_STATEMENT_TIMEOUT_MS: '2000' },
      {
        onQuery: (sql) => {
          if (cutAfter?.test(sql)) {
            cutAfter = undefined;
            proxy.cut();
          }
        },
      },
    );
    token = await server.devIssuer!.sign({ sub: 'pg-fault-user', scope: SCOPES });
    const direct = new URL(admin);
    direct.pathname = `/${name}`;
    const reader = new pg.Pool({ connectionString: direct.href, max: 1, application_name: 'faults-test-reader' });
    reader.on('error', () => undefined);
    const one = async (query: string) => Number(((await reader.query(query)).rows[0] as { n: string }).n);
    rows = {
      orders: () => one('select count(*) as n from orders'),
      items: () => one('select count(*) as n from order_items'),
      stock: () => one('select stock as n from products where id = 1'),
      close: () => reader.end(),
    };
  });

  afterAll(async () => {
    await server?.close();
    await rows?.close();
    await proxy?.close();
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });

  it('answers requests that need the database 503 DATABASE_UNAVAILABLE with Retry-After while it is down, /readyz 503, /healthz 200, then recovers without a restart', async () => {
    expect((await server.graphql(READ, { token })).status).toBe(200);
    const before = { orders: await rows.orders(), stock: await rows.stock() };

    await proxy.set('down');
    expectUnavailable(await server.graphql(READ, { token }));
    // Anonymous catalog reads too (their response cache checks the catalog version first).
    expectUnavailable(await server.graphql(READ));
    expectUnavailable(await server.graphql(PLACE, { token, variables: { key: 'pg-down' } }));
    const ready = await status(server, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body['reasons']).toContain('database unreachable');
    expect((await status(server, '/healthz')).status).toBe(200);

    await proxy.set('up');
    await waitFor(async () => (await status(server, '/readyz')).status === 200, { what: '/readyz 200 after PostgreSQL returns' });
    expect((await server.graphql(READ, { token })).status).toBe(200);
    expect(await rows.orders()).toBe(before.orders);
    expect(await rows.stock()).toBe(before.stock);
    const placed = await server.graphql(PLACE, { token, variables: { key: 'pg-after-down' } });
    expect(placed.status).toBe(200);
    expect(placed.body.errors).toBeUndefined();
  });

  it('answers 503 within the pool timeout when PostgreSQL accepts connections but never answers, and recovers', async () => {
    await proxy.set('hang');
    // Without DATABASE_CONNECT_TIMEOUT_MS this request would wait until jest gives up.
    expectUnavailable(await server.graphql(READ, { token }));
    expect((await status(server, '/readyz')).status).toBe(503);
    await proxy.set('up');
    await waitFor(async () => (await server.graphql(READ, { token })).status === 200, { what: 'reads after PostgreSQL answers again' });
  });

  it('leaves no partly written order when the connection is cut in the middle of placeOrder', async () => {
    const before = { orders: await rows.orders(), items: await rows.items(), stock: await rows.stock() };
    cutAfter = /^insert into "orders"/;
    const placed = await server.graphql(PLACE, { token, variables: { key: 'pg-cut-mid-order' } });
    expect(cutAfter).toBeUndefined(); // the cut happened, inside the transaction
    expectUnavailable(placed);
    expect({ orders: await rows.orders(), items: await rows.items(), stock: await rows.stock() }).toEqual(before);

    // The same request again succeeds on fresh connections, once.
    const again = await server.graphql(PLACE, { token, variables: { key: 'pg-cut-mid-order' } });
    expect(again.status).toBe(200);
    expect(again.body.errors).toBeUndefined();
    expect(await rows.orders()).toBe(before.orders + 1);
    expect(await rows.stock()).toBe(before.stock - 2);
  });

  it('answers 503 after the statement timeout when a statement cannot finish (its rows locked by another session), writing nothing', async () => {
    const before = { orders: await rows.orders(), stock: await rows.stock() };
    const direct = new URL(admin);
    direct.pathname = `/${name}`;
    const locker = new pg.Client({ connectionString: direct.href, application_name: 'faults-test-locker' });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select id from products where id = 1 for update');
      // DATABASE_STATEMENT_TIMEOUT_MS=2000: without it this request would wait for the lock until jest gives up.
      expectUnavailable(await server.graphql(PLACE, { token, variables: { key: 'pg-row-locked' } }));
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect({ orders: await rows.orders(), stock: await rows.stock() }).toEqual(before);
    expect((await server.graphql(PLACE, { token, variables: { key: 'pg-row-locked' } })).status).toBe(200);
  });

  it('recovers by itself when the server terminates its sessions (pg_terminate_backend on this database only)', async () => {
    expect((await server.graphql(READ, { token })).status).toBe(200);
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      const killed = await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and application_name = $2', [name, '']);
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    // The pool drops the dead connections and opens new ones; at worst one request saw 503.
    await waitFor(async () => (await server.graphql(READ, { token })).status === 200, { what: 'reads after the sessions were terminated' });
    const results = await Promise.all([1, 2, 3].map(() => server.graphql(READ, { token })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe('SQLite file locked by another process', () => {
  let dir: string;
  let file: string;
  let server: TestHttpServer;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faults-sqlite-'));
    file = join(dir, 'locked.db');
    server = await startHttpServer({ DATABASE_URL: file, DATABASE_BUSY_TIMEOUT_MS: '200' });
    token = await server.devIssuer!.sign({ sub: 'sqlite-fault-user', scope: SCOPES });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers writes 503 DATABASE_UNAVAILABLE with Retry-After while another connection holds the write lock, /readyz 503, /healthz 200; reads go on; no partial order; recovery after', async () => {
    const other = new SQLite(file);
    const count = (query: string) => Number((other.prepare(query).get() as { n: number }).n);
    const before = { orders: count('select count(*) as n from orders'), stock: count('select stock as n from products where id = 1') };
    other.exec('begin immediate');
    other.exec('update products set name = name where id = 2');
    try {
      expectUnavailable(await server.graphql(PLACE, { token, variables: { key: 'sqlite-locked' } }));
      // WAL: readers do not wait for the writer.
      expect((await server.graphql(READ, { token })).status).toBe(200);
      const ready = await status(server, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body['reasons']).toContain('database unreachable');
      expect((await status(server, '/healthz')).status).toBe(200);
    } finally {
      other.exec('rollback');
    }
    expect({ orders: count('select count(*) as n from orders'), stock: count('select stock as n from products where id = 1') }).toEqual(before);
    other.close();

    expect((await status(server, '/readyz')).status).toBe(200);
    const placed = await server.graphql(PLACE, { token, variables: { key: 'sqlite-locked' } });
    expect(placed.status).toBe(200);
    expect(placed.body.errors).toBeUndefined();
  });
});
