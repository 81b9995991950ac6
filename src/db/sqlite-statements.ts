import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

import { setBounded } from '../lib/bounded-map.js';

/** Prepared statements kept per SQLite connection, by SQL text. */
export const STATEMENT_CACHE_SIZE = 500;

type RowBuilder = (values: unknown[]) => Record<string, unknown>;

/**
 * A row builder for one statement's result columns: an object literal with the columns in order,
 * compiled once, so every row gets the same shape without the per-property work of
 * better-sqlite3's object rows. A repeated name keeps its last value, as better-sqlite3 does. A
 * column named `__proto__` (which a literal would take for the prototype) makes a plain own
 * property instead.
 */
function compileRowBuilder(columns: readonly string[]): RowBuilder {
  if (columns.includes('__proto__')) return (v) => Object.fromEntries(columns.map((name, i) => [name, v[i]]));
  const body = `return {${columns.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ')}};`;
  // Generated from column names only (JSON-quoted), never from values.
  return new Function('v', body) as RowBuilder;
}

/**
 * One cached statement: readers return rows fetched as arrays and built by the statement's row
 * builder. SQLite re-prepares a statement by itself after a schema change, which can change its
 * columns (`select *` after `alter table … add column`): a row of another width rebuilds the builder.
 */
function wrapStatement(statement: SQLite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  const columnsOf = () => statement.columns().map((column) => column.name);
  let columns = columnsOf();
  let build = compileRowBuilder(columns);
  const raw = statement.raw(true);
  const builderFor = (values: unknown[]): RowBuilder => {
    if (values.length !== columns.length) {
      columns = columnsOf();
      build = compileRowBuilder(columns);
    }
    return build;
  };
  return {
    reader: true,
    all(parameters) {
      const rows = raw.all(parameters) as unknown[][];
      const out = new Array<Record<string, unknown>>(rows.length);
      if (rows.length === 0) return out;
      const make = builderFor(rows[0]!);
      for (let i = 0; i < rows.length; i++) out[i] = make(rows[i]!);
      return out;
    },
    run: (parameters) => raw.run(parameters),
    *iterate(parameters) {
      for (const values of raw.iterate(parameters) as IterableIterator<unknown[]>) yield builderFor(values)(values);
    },
  };
}

/** Statements that can change the schema (and so the columns of cached statements). */
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\b/i;

/**
 * The connection as Kysely's SQLite dialect sees it, with two costs taken out of every query:
 * statements are prepared once per SQL text (Kysely prepares every query anew, which costs more
 * than running the small indexed queries this API sends), and result rows are fetched as arrays
 * and turned into objects by a builder compiled per statement (about 40 % faster than
 * better-sqlite3's object rows on 60-row reads). Safe because Kysely serialises all work on its
 * single SQLite connection, so a statement is never in use twice at once.
 */
export function cachedStatements(connection: SQLite.Database, maxStatements: number = STATEMENT_CACHE_SIZE): SqliteDatabase {
  // A plain Map, not lru-cache: a lookup per SQL statement, and the SQL texts are the code's, so
  // the cache only ever hits. A hit costs 14 ns here against lru-cache's 28 ns (500 entries;
  // `npx tsx bench/cache-bench.ts --size 500`, docs/BENCHMARKS.md).
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      connection.close();
    },
    prepare(sql: string) {
      // Cheap insurance beside the width check: forget every statement after DDL (migrations).
      if (SCHEMA_CHANGE.test(sql)) statements.clear();
      return statements.get(sql) ?? setBounded(statements, sql, wrapStatement(connection.prepare(sql)), maxStatements);
    },
  };
}
