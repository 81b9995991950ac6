/**
 * `npm run soak`: the real server (`node dist/main.js` after `npm run build`, as `npm start` runs it, logging on) on a
 * PostgreSQL database of its own, under a mixed load for a configurable time, with a fault
 * injected half-way; then the invariants are checked in the database and a report printed.
 *
 * Load, per request picked at random: catalog reads (anonymous), a user's orders, `placeOrder`
 * (some with an idempotency key, sent twice), `cancelOrder` of one of the user's orders, a field
 * the token has no scope for (filtered), an invalid token (401).
 *
 * Fault (`SOAK_FAULT=pg-terminate`, the default): `pg_terminate_backend` on every session of the
 * soak's database, i.e. the server's pool loses all its connections at once. 5xx answers are
 * expected only within `SOAK_FAULT_WINDOW_SEC` after it; outside, the run fails on any.
 *
 * Invariants (the run exits 1 if one fails): no product's stock below zero; for each product, stock
 * plus the units of its non-cancelled orders is what it was before the load (stock conservation:
 * nothing oversold, a cancel restores exactly once); every order has items and its total is the
 * sum of its lines (no partial order); no 5xx outside the fault window.
 *
 * Environment: SOAK_DURATION_SEC (default 60), SOAK_CONCURRENCY (default 8), SOAK_FAULT
 * (pg-terminate | none), SOAK_FAULT_WINDOW_SEC (default 10), SOAK_ADMIN_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres: where the soak database is created and dropped).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { buildDist } from './lib/build.js';
import { loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION_SEC = Number(process.env['SOAK_DURATION_SEC'] ?? 60);
const CONCURRENCY = Number(process.env['SOAK_CONCURRENCY'] ?? 8);
const FAULT = (process.env['SOAK_FAULT'] ?? 'pg-terminate') as 'pg-terminate' | 'none';
const FAULT_WINDOW_MS = Number(process.env['SOAK_FAULT_WINDOW_SEC'] ?? 10) * 1000;
const ADMIN_URL = process.env['SOAK_ADMIN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const USERS = 20;
const PUBLIC_URL = 'http://soak.invalid';

const Q_PRODUCTS = 'query Products { products(first: 20) { edges { node { id name inStock price { amount currency } } } } }';
const Q_MY_ORDERS = 'query MyOrders { me { displayName orders(first: 10) { edges { node { id status total { amount } items { quantity } } } } } }';
const Q_DENIED = 'query Denied { me { displayName email orders(first: 5) { edges { node { id } } } } }';
const M_PLACE = 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
const M_CANCEL = 'mutation Cancel($id: ID!) { cancelOrder(id: $id) { id status } }';

type Kind = 'read' | 'my-orders' | 'place' | 'cancel' | 'denied' | 'invalid-token';
const MIX: ReadonlyArray<[Kind, number]> = [
  ['read', 30],
  ['my-orders', 15],
  ['place', 25],
  ['cancel', 10],
  ['denied', 10],
  ['invalid-token', 10],
];

interface Tally {
  requests: number;
  byKind: Record<string, number>;
  /** Answers by HTTP status and first error code, e.g. `200 FORBIDDEN`, `503 SERVICE_UNAVAILABLE`. */
  answers: Record<string, number>;
  serverErrorsInWindow: number;
  serverErrorsOutside: number;
  /** Answers that are not what the kind of request should get, e.g. a read without data (outside the fault window). */
  unexpectedOutside: Record<string, number>;
  placed: number;
  refused: Record<string, number>;
  cancelled: number;
  cancelRefused: Record<string, number>;
  idempotentRepeatsDiffering: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} during start-up`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('server not ready after 60 s');
}

/** process_resident_memory_bytes and nodejs_heap_size_used_bytes from the server's own /metrics. */
async function serverMemory(metricsUrl: string): Promise<{ rss: number; heapUsed: number }> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: value('process_resident_memory_bytes'), heapUsed: value('nodejs_heap_size_used_bytes') };
}

/** Per product: stock, and units held by non-cancelled orders; plus orders whose items are missing or whose total is not the sum of its lines. */
async function databaseState(client: pg.Client): Promise<{ products: Map<number, { stock: number; held: number }>; partialOrders: number; orders: number; cancelled: number }> {
  const rows = await client.query<{ id: number; stock: number; held: string }>(
    `select p.id, p.stock, coalesce(sum(i.quantity) filter (where o.status <> 'CANCELLED'), 0) as held
       from products p left join order_items i on i.product_id = p.id left join orders o on o.id = i.order_id
      group by p.id, p.stock order by p.id`,
  );
  const partial = await client.query<{ n: string }>(
    `select count(*) as n from orders o
      where not exists (select 1 from order_items i where i.order_id = o.id)
         or o.total_minor <> (select coalesce(sum(i.quantity * i.unit_price_minor), 0) from order_items i where i.order_id = o.id)`,
  );
  const orders = await client.query<{ n: string; cancelled: string }>(`select count(*) as n, count(*) filter (where status = 'CANCELLED') as cancelled from orders`);
  return {
    products: new Map(rows.rows.map((r) => [Number(r.id), { stock: Number(r.stock), held: Number(r.held) }])),
    partialOrders: Number(partial.rows[0]!.n),
    orders: Number(orders.rows[0]!.n),
    cancelled: Number(orders.rows[0]!.cancelled),
  };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function pickKind(): Kind {
  const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [kind, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'read';
}

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string; reason?: string } }> } | undefined;
}

async function post(url: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: Answer['body'];
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

async function main(): Promise<void> {
  buildDist();
  const dbName = `soak_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'soak-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl.href,
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  };
  const config = loadConfig(env, PROJECT_ROOT);
  if (config.auth.issuer.kind !== 'development') throw new Error('the soak signs its tokens with the development issuer');
  const issuer = await loadOrCreateDevIssuer({ keyFile: config.auth.issuer.keyFile, issuer: config.auth.issuer.issuer, audience: config.auth.audience });

  const logFile = path.join(dataDir, 'server.log');
  const log = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: PROJECT_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const db = new pg.Client({ connectionString: databaseUrl.href });
  let exitCode = 0;
  try {
    await waitForHealth(url, child);
    await db.connect();

    const users = await Promise.all(
      Array.from({ length: USERS }, async (_, i) => ({
        sub: `soak-user-${i}`,
        token: await issuer.sign({ sub: `soak-user-${i}`, scope: 'read:profile read:orders write:orders', name: `Soak User ${i}`, expiresInSec: DURATION_SEC + 3600 }),
        narrow: await issuer.sign({ sub: `soak-user-${i}`, scope: 'read:profile', expiresInSec: DURATION_SEC + 3600 }),
        orders: [] as string[],
      })),
    );
    const valid = users[0]!.token;
    const invalid = `${valid.slice(0, -8)}${valid.slice(-8) === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'}`;

    const catalog = await post(url, undefined, Q_PRODUCTS);
    const edges = ((catalog.body?.data?.['products'] as { edges: Array<{ node: { id: string } }> } | undefined)?.edges ?? []).map((e) => e.node.id);
    if (edges.length === 0) throw new Error('no products to order');

    const before = await databaseState(db);
    // Warm up, then take the memory baseline.
    for (let i = 0; i < 200; i += 1) await post(url, undefined, Q_PRODUCTS);
    const memoryStart = await serverMemory(metricsUrl);

    const tally: Tally = {
      requests: 0,
      byKind: {},
      answers: {},
      serverErrorsInWindow: 0,
      serverErrorsOutside: 0,
      unexpectedOutside: {},
      placed: 0,
      refused: {},
      cancelled: 0,
      cancelRefused: {},
      idempotentRepeatsDiffering: 0,
    };
    const started = Date.now();
    const deadline = started + DURATION_SEC * 1000;
    let faultAt: number | undefined;
    let faultSessions = 0;
    // A request overlapping the window counts in it: one sent just before the fault is hit by it.
    const inWindow = (sentAt: number) => faultAt !== undefined && Date.now() >= faultAt && sentAt <= faultAt + FAULT_WINDOW_MS;
    const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);

    const record = (kind: Kind, answer: Answer | 'network', at: number): void => {
      tally.requests += 1;
      count(tally.byKind, kind);
      const status = answer === 'network' ? 0 : answer.status;
      const code = answer === 'network' ? 'NETWORK' : (answer.body?.errors?.[0]?.extensions?.code ?? 'OK');
      count(tally.answers, `${status || 'network'} ${code}`);
      // A 200 carrying INTERNAL_SERVER_ERROR is a server failure as much as a 500 is.
      if (status >= 500 || status === 0 || (answer !== 'network' && (answer.body?.errors ?? []).some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR'))) {
        if (inWindow(at)) tally.serverErrorsInWindow += 1;
        else tally.serverErrorsOutside += 1;
      }
      if (inWindow(at) || answer === 'network') return;
      const expected: Record<Kind, (a: Answer) => boolean> = {
        read: (a) => a.status === 200 && a.body?.errors === undefined,
        'my-orders': (a) => a.status === 200 && a.body?.errors === undefined,
        place: (a) => a.status === 200,
        cancel: (a) => a.status === 200,
        denied: (a) => a.status === 200 && (a.body?.errors ?? []).some((e) => e.extensions?.code === 'FORBIDDEN'),
        'invalid-token': (a) => a.status === 401,
      };
      if (!expected[kind](answer)) count(tally.unexpectedOutside, `${kind}: ${status} ${code}`);
    };

    const one = async (): Promise<void> => {
      const kind = pickKind();
      const user = pick(users);
      const at = Date.now();
      try {
        switch (kind) {
          case 'read':
            return record(kind, await post(url, undefined, Q_PRODUCTS), at);
          case 'my-orders':
            return record(kind, await post(url, user.token, Q_MY_ORDERS), at);
          case 'denied':
            return record(kind, await post(url, user.narrow, Q_DENIED), at);
          case 'invalid-token':
            return record(kind, await post(url, invalid, Q_PRODUCTS), at);
          case 'place': {
            const lines = 1 + Math.floor(Math.random() * 3);
            const items = [...new Set(Array.from({ length: lines }, () => pick(edges)))].map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) }));
            const idempotencyKey = Math.random() < 0.3 ? randomUUID() : undefined;
            const input = { items, ...(idempotencyKey ? { idempotencyKey } : {}) };
            const answer = await post(url, user.token, M_PLACE, { input });
            record(kind, answer, at);
            const orderId = (answer.body?.data?.['placeOrder'] as { orderId?: string } | undefined)?.orderId;
            if (orderId !== undefined) {
              tally.placed += 1;
              user.orders.push(orderId);
              if (idempotencyKey) {
                // The same key again: the same order, never a second one.
                const againAt = Date.now();
                const again = await post(url, user.token, M_PLACE, { input });
                record(kind, again, againAt);
                const againId = (again.body?.data?.['placeOrder'] as { orderId?: string } | undefined)?.orderId;
                if (againId !== undefined && againId !== orderId) tally.idempotentRepeatsDiffering += 1;
              }
            } else if (answer.status === 200) {
              const extensions = answer.body?.errors?.[0]?.extensions;
              count(tally.refused, `${extensions?.code ?? 'UNKNOWN'}${extensions?.reason ? ` ${extensions.reason}` : ''}`);
            }
            return;
          }
          case 'cancel': {
            const orderId = user.orders.length > 0 ? user.orders.splice(Math.floor(Math.random() * user.orders.length), 1)[0]! : undefined;
            if (orderId === undefined) return record('read', await post(url, undefined, Q_PRODUCTS), at);
            const answer = await post(url, user.token, M_CANCEL, { id: orderId });
            record(kind, answer, at);
            if ((answer.body?.data?.['cancelOrder'] as { status?: string } | null | undefined)?.status === 'CANCELLED') tally.cancelled += 1;
            else if (answer.status === 200) count(tally.cancelRefused, answer.body?.errors?.[0]?.extensions?.code ?? 'UNKNOWN');
            return;
          }
        }
      } catch {
        record(kind, 'network', at);
      }
    };

    const fault = async (): Promise<void> => {
      if (FAULT === 'none') return;
      await new Promise((resolve) => setTimeout(resolve, (DURATION_SEC * 1000) / 2));
      faultAt = Date.now();
      const result = await admin.query<{ pid: number }>('select pg_terminate_backend(pid) as pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and pid <> $2', [
        dbName,
        (db as unknown as { processID: number }).processID,
      ]);
      faultSessions = result.rowCount ?? 0;
      process.stdout.write(`fault: terminated ${faultSessions} sessions of ${dbName} at +${Math.round((faultAt - started) / 1000)} s\n`);
    };

    const progress = setInterval(() => process.stdout.write(`+${Math.round((Date.now() - started) / 1000)} s: ${tally.requests} requests, ${tally.placed} orders placed\n`), 30_000);
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) await one();
    });
    await Promise.all([...workers, fault()]);
    clearInterval(progress);
    const elapsedSec = (Date.now() - started) / 1000;
    const memoryEnd = await serverMemory(metricsUrl);

    const after = await databaseState(db);
    const negative = [...after.products.entries()].filter(([, p]) => p.stock < 0).map(([id]) => id);
    const unconserved = [...before.products.entries()].filter(([id, p]) => {
      const now = after.products.get(id)!;
      return p.stock + p.held !== now.stock + now.held;
    });
    const unitsBefore = [...before.products.values()].reduce((sum, p) => sum + p.stock + p.held, 0);
    const unitsAfter = [...after.products.values()].reduce((sum, p) => sum + p.stock + p.held, 0);

    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    const lines = [
      `soak: ${elapsedSec.toFixed(0)} s, ${CONCURRENCY} concurrent clients, fault ${FAULT}${faultAt !== undefined ? ` at +${Math.round((faultAt - started) / 1000)} s (${faultSessions} sessions terminated, window ${FAULT_WINDOW_MS / 1000} s)` : ''}`,
      `requests: ${tally.requests} (${(tally.requests / elapsedSec).toFixed(0)}/s) by kind ${JSON.stringify(tally.byKind)}`,
      `answers: ${JSON.stringify(Object.fromEntries(Object.entries(tally.answers).sort()))}`,
      `server errors (5xx, INTERNAL_SERVER_ERROR, network): ${tally.serverErrorsInWindow} in the fault window, ${tally.serverErrorsOutside} outside it`,
      `unexpected answers outside the fault window: ${JSON.stringify(tally.unexpectedOutside)}`,
      `orders: ${tally.placed} placed, refused ${JSON.stringify(tally.refused)}; ${tally.cancelled} cancelled, cancel refused ${JSON.stringify(tally.cancelRefused)}; idempotent repeats giving another order: ${tally.idempotentRepeatsDiffering}`,
      `database: ${after.orders - before.orders} new orders (${after.cancelled - before.cancelled} cancelled), ${after.partialOrders} partial orders`,
      `stock conservation: ${unitsBefore} units before, ${unitsAfter} after (stock + held by live orders); products not conserved: ${unconserved.length}; negative stock: ${negative.length}`,
      `server memory: RSS ${mib(memoryStart.rss)} -> ${mib(memoryEnd.rss)}, heap used ${mib(memoryStart.heapUsed)} -> ${mib(memoryEnd.heapUsed)}`,
    ];
    const failures = [
      ...(tally.serverErrorsOutside > 0 ? ['5xx outside the fault window'] : []),
      ...(negative.length > 0 ? ['negative stock'] : []),
      ...(unconserved.length > 0 || unitsBefore !== unitsAfter ? ['stock not conserved'] : []),
      ...(after.partialOrders > 0 ? ['partial orders'] : []),
      ...(tally.idempotentRepeatsDiffering > 0 ? ['an idempotency key gave two orders'] : []),
      ...(Object.keys(tally.unexpectedOutside).length > 0 ? ['unexpected answers outside the fault window'] : []),
    ];
    lines.push(failures.length === 0 ? 'invariants: all hold' : `FAILED: ${failures.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (failures.length > 0) {
      exitCode = 1;
      const tail = readFileSync(logFile, 'utf8').split('\n').filter((line) => /"level":(50|60)/.test(line)).slice(-5);
      if (tail.length > 0) process.stdout.write(`last server errors:\n${tail.join('\n')}\n`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    process.stdout.write(`server exited with ${child.exitCode} after SIGTERM\n`);
    if (child.exitCode !== 0) exitCode = 1;
    closeSync(log);
    // Kept for a look after the run (the data folder goes).
    writeFileSync(path.join(tmpdir(), 'soak-server-last.log'), readFileSync(logFile));
    await db.end().catch(() => undefined);
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
