/**
 * placeOrder throughput on PostgreSQL with 1, 8 and 32 concurrent writers: distinct users ordering
 * distinct products with plenty of stock, so nothing but the design makes them wait for each other.
 * It calls the domain's `placeOrder` as the GraphQL resolver does (same request deps, the server's
 * shared product-row cache), on a fresh schema of its own, so what it shows is the database work of
 * an order: the row locks, the stock updates, the catalog version, the commit.
 *
 * Rounds alternate the writer counts (1, 8, 32, 1, 8, 32, …) so machine noise spreads over all of
 * them; it prints each round and then, per writer count, the median and the spread (min–max) of
 * orders/s and of the median order latency. Asserts nothing.
 *
 *   npm run bench:orders -- [--rounds 5] [--seconds 3] [--writers 1,8,32]
 *   BENCH_DATABASE_URL=postgres://… (default: TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import pg from 'pg';

import type { UserPrincipal } from '../src/auth/principal.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seedCatalog } from '../src/db/seed.js';
import { ProductRowCache } from '../src/domain/catalog/product-row-cache.js';
import { createCursorCodec } from '../src/domain/cursor-codec.js';
import { placeOrder } from '../src/domain/orders/order-service.js';
import { createRequestDeps } from '../src/domain/request-deps.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    writers: { type: 'string', default: '1,8,32' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WRITERS = values.writers.split(',').map(Number);
const MAX_WRITERS = Math.max(...WRITERS);
const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function principal(n: number): UserPrincipal {
  return Object.freeze({
    kind: 'user',
    subject: `order-bench-${n}`,
    issuer: 'https://order-bench.invalid',
    clientId: 'order-bench',
    scopes: new Set(['write:orders']),
    audience: [],
    expiresAt: undefined,
    tokenId: undefined,
    acr: undefined,
    authTime: undefined,
    name: `Order Bench ${n}`,
  });
}

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

interface RoundResult {
  readonly writers: number;
  readonly orders: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly failed: number;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const schema = `bench_orders_${randomBytes(4).toString('hex')}`;
  await admin(`create schema ${schema}`);
  const database = await createDatabase({ kind: 'postgres', url, searchPath: schema, poolSize: MAX_WRITERS + 2 });
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
    const now = new Date().toISOString();
    // One product per writer, after the demo catalog, with stock no round can exhaust.
    const products = await database.db
      .insertInto('products')
      .values(Array.from({ length: MAX_WRITERS }, (_, i) => ({
        name: `Order bench product ${i + 1}`,
        description: null,
        price_minor: 1000 + i,
        currency: 'USD',
        stock: 100_000_000,
        created_at: now,
        updated_at: now,
      })))
      .returning('id')
      .execute();
    const cursors = createCursorCodec();
    const rows = new ProductRowCache();
    const order = (writer: number) =>
      placeOrder(createRequestDeps(database.db, { cursors, products: rows }), principal(writer), {
        items: [{ productId: (products[writer] as { id: number }).id, quantity: 1 }],
      });
    // Every user's profile exists before the first round (the first order creates it).
    await Promise.all(products.map((_, w) => order(w)));

    const runRound = async (writers: number): Promise<RoundResult> => {
      const latencies: number[] = [];
      let failed = 0;
      const until = performance.now() + SECONDS * 1000;
      const started = performance.now();
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        while (performance.now() < until) {
          const t0 = performance.now();
          try {
            await order(w);
            latencies.push(performance.now() - t0);
          } catch {
            failed += 1;
          }
        }
      }));
      const elapsed = (performance.now() - started) / 1000;
      return { writers, orders: latencies.length, perSecond: latencies.length / elapsed, p50Ms: median(latencies), failed };
    };

    const results: RoundResult[] = [];
    console.log(`placeOrder on PostgreSQL, ${ROUNDS} rounds of ${SECONDS} s per writer count, writer counts alternating`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const writers of WRITERS) {
        const r = await runRound(writers);
        results.push(r);
        console.log(`round ${round}  writers ${String(writers).padStart(2)}  ${r.perSecond.toFixed(0).padStart(6)} orders/s  p50 ${r.p50Ms.toFixed(2)} ms  failed ${r.failed}`);
      }
    }
    console.log('\n| writers | orders/s (median) | orders/s (min–max) | p50 latency ms (median) | failed |');
    console.log('|---|---|---|---|---|');
    for (const writers of WRITERS) {
      const mine = results.filter((r) => r.writers === writers);
      const rates = mine.map((r) => r.perSecond);
      console.log(`| ${writers} | ${median(rates).toFixed(0)} | ${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)} | ${median(mine.map((r) => r.p50Ms)).toFixed(2)} | ${mine.reduce((s, r) => s + r.failed, 0)} |`);
    }
  } finally {
    await database.close();
    await admin(`drop schema if exists ${schema} cascade`);
  }
}

await main();
