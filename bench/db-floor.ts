/**
 * `npm run bench:db`: how far the database path of Q2 (`me` + 20 orders × 3 items + products,
 * bench/lib/queries.ts) is from its floor, in microseconds per Q2's worth of statements.
 *
 * Q2's statements are recorded (SQL and parameters, from Kysely's log) while the domain answers
 * Q2 the way its resolvers do, then timed four ways on the same data, in alternating rounds:
 * - floor: the recorded statements run directly on better-sqlite3 (prepared once, object rows)
 *   and on one pg client (no ORM, no pool), one after another as Q2 needs them;
 * - repositories + loaders: the domain functions Q2's resolvers call (caller profile, the page of
 *   orders, their items through the DataLoader, each item's product through the loader and the
 *   server's shared product rows), over the handle `createDatabase` opens;
 * - whole Q2 in-process: `executeOperation` of Q2 on the server's Apollo build (authorization on).
 * PostgreSQL runs when TEST_DATABASE_URL is set, in a schema of its own (dropped at the end).
 * Figures are medians of the rounds with their spread (min–max); never asserted.
 * Options: `--rounds N` (default 7), `--iterations N` per round (default 400), `--quick`,
 * `--idempotency-keys` (every order gets an idempotency key and request fingerprint, as orders
 * placed by retrying clients have; the bench seed's orders have none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';

import { createChallengeBuilder } from '../src/auth/challenge-builder.js';
import type { UserPrincipal } from '../src/auth/principal.js';
import { createDatabase, type Database, type DatabaseConfig } from '../src/db/database.js';
import type { DatabaseSchema } from '../src/db/database-schema.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { pgTypeParsers } from '../src/db/pg-type-parsers.js';
import { seedCatalog } from '../src/db/seed.js';
import { cachedStatements } from '../src/db/sqlite-statements.js';
import { ProductRowCache } from '../src/domain/catalog/product-row-cache.js';
import { createCursorCodec, type CursorCodec } from '../src/domain/cursor-codec.js';
import { getOrderItems, listOrdersForProfile } from '../src/domain/orders/order-service.js';
import { getCallerProfile } from '../src/domain/profile/profile-service.js';
import { createRequestDeps } from '../src/domain/request-deps.js';
import { createApollo } from '../src/graphql/apollo-server.js';
import { createRequestContext } from '../src/graphql/context.js';
import { buildSchema } from '../src/graphql/schema.js';
import { silentLogger } from '../src/logger.js';
import { Q2 } from './lib/queries.js';
import { BENCH_USERS, benchPrincipal, seedBenchData } from './lib/seed.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const quick = argv.includes('--quick');
const keyed = argv.includes('--idempotency-keys');
const ROUNDS = option('rounds', quick ? 3 : 7);
const ITERATIONS = option('iterations', quick ? 100 : 400);
const ISSUER = 'https://as.db-floor.bench';
const principal: UserPrincipal = benchPrincipal(ISSUER, BENCH_USERS[0], ['read:profile', 'read:orders', 'write:orders']);

interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** One way of answering Q2's reads: runs them once per call. */
interface Variant {
  readonly label: string;
  run(): Promise<unknown> | unknown;
}

/** What Q2's resolvers ask the domain for, in the order execution asks (items of all orders in one tick, then products). */
async function q2Reads(db: Kysely<DatabaseSchema>, cursors: CursorCodec, products: ProductRowCache): Promise<number> {
  const deps = createRequestDeps(db, { cursors, products });
  const me = await getCallerProfile(deps, principal);
  const page = await listOrdersForProfile(deps, principal, me.id, { first: 20 });
  if (page === null) throw new Error('the bench user cannot read its orders');
  const items = (await Promise.all(page.edges.map((edge) => getOrderItems(deps, edge.node)))).flat();
  const rows = await Promise.all(items.map((item) => deps.loaders.productById.load(item.product_id)));
  if (page.edges.length !== 20 || rows.length !== 60 || rows.some((row) => row === null)) throw new Error('Q2 read the wrong rows');
  return rows.length;
}

/** Q2's statements (with the shared product rows warm, as in a running server), recorded from Kysely's log. */
async function recordStatements(log: (sink: Statement[]) => Kysely<DatabaseSchema>, cursors: CursorCodec): Promise<Statement[]> {
  const sink: Statement[] = [];
  const db = log(sink);
  const products = new ProductRowCache();
  await q2Reads(db, cursors, products);
  sink.length = 0;
  await q2Reads(db, cursors, products);
  await db.destroy();
  return [...sink];
}

const logInto = (sink: Statement[]) => (event: { query: { sql: string; parameters: readonly unknown[] } }) => {
  sink.push({ sql: event.query.sql, parameters: event.query.parameters });
};

/** Wall time and this process's CPU time (user + system) per Q2, in µs. CPU time is less disturbed by other processes on a shared machine; PostgreSQL's own work shows only in wall time. */
async function timeRound(variant: Variant): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await variant.run();
  const wall = ((performance.now() - start) * 1000) / ITERATIONS;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / ITERATIONS };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const summary = (values: readonly number[]): string =>
  `${median(values).toFixed(1).padStart(7)} (${`${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`.padStart(11)})`;

/** Alternating rounds over the variants (after one warm-up round each); prints medians and spreads (min–max). */
async function compare(title: string, variants: readonly Variant[]): Promise<void> {
  console.log(`\n${title} — µs per Q2, ${ROUNDS} alternating rounds × ${ITERATIONS}; median (min–max), ratio to the first row`);
  console.log(`  ${''.padEnd(58)} ${'wall'.padStart(21)}  ${'process CPU'.padStart(21)}`);
  for (const variant of variants) await timeRound(variant);
  const results = variants.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, variant] of variants.entries()) {
      const { wall, cpu } = await timeRound(variant);
      results[i]!.wall.push(wall);
      results[i]!.cpu.push(cpu);
    }
  }
  const floor = results[0]!;
  for (const [i, variant] of variants.entries()) {
    const { wall, cpu } = results[i]!;
    const ratio = (values: readonly number[], base: readonly number[]) => `×${(median(values) / median(base)).toFixed(2)}`;
    console.log(`  ${variant.label.padEnd(58)} ${summary(wall)} ${ratio(wall, floor.wall).padStart(6)}  ${summary(cpu)} ${ratio(cpu, floor.cpu).padStart(6)}`);
  }
}

function printStatements(statements: readonly Statement[]): void {
  for (const s of statements) console.log(`  [${s.parameters.length} params] ${s.sql}`);
}

/** The server's Apollo build and a Q2 run through it. */
async function wholeQ2(db: Kysely<DatabaseSchema>, cursors: CursorCodec, products: ProductRowCache): Promise<{ variant: Variant; stop(): Promise<void> }> {
  const { schema, index } = buildSchema();
  const apollo = createApollo({ schema, index, mode: 'filter', challenges: createChallengeBuilder({ realm: 'bench', resourceMetadataUrl: 'bench' }), logger: silentLogger });
  await apollo.start();
  const variant: Variant = {
    label: 'whole Q2 in-process (executeOperation, authorization on)',
    async run() {
      const contextValue = createRequestContext({ requestId: 'b', principal, db, index, mode: 'filter', log: silentLogger, cursors, products });
      const result = await apollo.executeOperation({ query: Q2.query }, { contextValue });
      if (result.body.kind !== 'single' || result.body.singleResult.errors) throw new Error(JSON.stringify(result.body));
    },
  };
  return { variant, stop: () => apollo.stop() };
}

async function seeded(config: DatabaseConfig): Promise<Database> {
  const database = await createDatabase(config);
  await migrateToLatest(database.db);
  await seedCatalog(database.db);
  await seedBenchData(database.db, ISSUER);
  if (keyed) {
    // As placeOrder stores them: the client's key, and a SHA-256 hex fingerprint of the request.
    await sql`update orders set idempotency_key = cast(${'00000000-0000-4000-8000-'} as text) || cast(id as text), request_fingerprint = ${'f'.repeat(64)}`.execute(database.db);
  }
  return database;
}

async function sqliteBench(cursors: CursorCodec): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'db-floor-'));
  const filename = path.join(dir, 'bench.db');
  const database = await seeded({ kind: 'sqlite', filename });
  const raw = new SQLite(filename);
  try {
    const statements = await recordStatements(
      (sink) => new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: cachedStatements(new SQLite(filename)) }), log: logInto(sink) }),
      cursors,
    );
    console.log(`\nSQLite: Q2 sends ${statements.length} statements (shared product rows warm):`);
    printStatements(statements);
    const prepared = statements.map((s) => ({ statement: raw.prepare(s.sql), parameters: s.parameters as unknown[] }));
    const arrays = statements.map((s) => ({ statement: raw.prepare(s.sql).raw(true), parameters: s.parameters as unknown[] }));
    const wrapped = cachedStatements(new SQLite(filename));
    const compiled = statements.map((s) => CompiledQuery.raw(s.sql, [...s.parameters]));
    const products = new ProductRowCache();
    const whole = await wholeQ2(database.db, cursors, products);
    await compare('SQLite (better-sqlite3)', [
      { label: 'floor: better-sqlite3, prepared once, object rows', run: () => prepared.map((p) => p.statement.all(p.parameters)) },
      { label: 'floor: better-sqlite3, prepared once, array rows', run: () => arrays.map((p) => p.statement.all(p.parameters)) },
      { label: "the project's statement cache + row builder, no Kysely", run: () => statements.map((s) => wrapped.prepare(s.sql).all(s.parameters)) },
      {
        label: 'the same statements through Kysely (executeQuery)',
        async run() {
          for (const query of compiled) await database.db.executeQuery(query);
        },
      },
      { label: 'repositories + loaders (createDatabase, Kysely)', run: () => q2Reads(database.db, cursors, products) },
      whole.variant,
    ]);
    await whole.stop();
  } finally {
    raw.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresBench(url: string, cursors: CursorCodec): Promise<void> {
  const schemaName = `db_floor_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schemaName}`);
  const options = `-c TimeZone=UTC -c search_path=${schemaName}`;
  let database: Database | undefined;
  const client = new pg.Client({ connectionString: url, options, types: pgTypeParsers });
  try {
    database = await seeded({ kind: 'postgres', url, searchPath: schemaName });
    const statements = await recordStatements(
      (sink) => new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1, options, types: pgTypeParsers }) }), log: logInto(sink) }),
      cursors,
    );
    console.log(`\nPostgreSQL: Q2 sends ${statements.length} statements (shared product rows warm):`);
    printStatements(statements);
    await client.connect();
    const named = statements.map((s, i) => ({ name: `db_floor_${i}`, text: s.sql, values: s.parameters as unknown[] }));
    const products = new ProductRowCache();
    const db = database.db;
    const whole = await wholeQ2(db, cursors, products);
    const compiled = statements.map((s) => CompiledQuery.raw(s.sql, [...s.parameters]));
    await compare('PostgreSQL (pg, one connection for the floor; the default pool of 10 for the project)', [
      {
        label: 'floor: pg client, named prepared statements',
        async run() {
          for (const q of named) await client.query(q);
        },
      },
      {
        label: 'floor: pg client, unnamed statements',
        async run() {
          for (const s of statements) await client.query(s.sql, s.parameters as unknown[]);
        },
      },
      {
        label: 'the same statements through Kysely (executeQuery, pool)',
        async run() {
          for (const query of compiled) await db.executeQuery(query);
        },
      },
      { label: 'repositories + loaders (createDatabase, Kysely)', run: () => q2Reads(db, cursors, products) },
      whole.variant,
    ]);
    await whole.stop();
  } finally {
    await client.end().catch(() => {});
    await database?.close();
    await admin.query(`drop schema ${schemaName} cascade`);
    await admin.end();
  }
}

console.log(`node ${process.version}; ${ROUNDS} rounds × ${ITERATIONS} Q2 per variant${quick ? ' (quick)' : ''}${keyed ? '; every order has an idempotency key' : ''}`);
const cursors = createCursorCodec();
await sqliteBench(cursors);
const url = process.env['TEST_DATABASE_URL'] ?? process.env['BENCH_DATABASE_URL'];
if (url) await postgresBench(url, cursors);
else console.log('\nPostgreSQL skipped: set TEST_DATABASE_URL=postgres://… to measure it');
