import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  PostgresIntrospector,
  SqliteDialect,
  SqliteIntrospector,
  sql,
  type LogEvent,
} from 'kysely';
import pg from 'pg';

import { SQLITE_MEMORY } from '../lib/database-url.js';
import type { PoolStats } from '../lib/metrics.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { errorType, tracer } from '../lib/tracing.js';
import type { DatabaseConfig, PostgresConfig, SqliteConfig } from './database-config.js';
import type { DatabaseSchema } from './database-schema.js';
import { pgTypeParsers } from './pg-type-parsers.js';
import { namedStatementPool } from './pg-named-statements.js';
import { cachedStatements } from './sqlite-statements.js';
import { withUnavailableErrors } from './unavailable-dialect.js';

export type { DatabaseConfig, PostgresConfig, SqliteConfig } from './database-config.js';

export type DatabaseDialect = 'sqlite' | 'postgres';

/** An open database: the Kysely handle shared by all requests, and its lifecycle. */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DatabaseDialect;
  /**
   * Rejects when the database cannot serve requests: PostgreSQL does not answer `select 1`
   * (within the pool and statement timeouts); SQLite's file cannot be locked for writing within
   * the busy timeout (another process holds its lock).
   */
  ping(): Promise<void>;
  /** Closes the connection or pool. Idempotent. */
  close(): Promise<void>;
  /** The PostgreSQL pool's connections now; undefined for SQLite (one connection). */
  poolStats(): PoolStats | undefined;
}

export interface CreateDatabaseOptions {
  /**
   * Called once per SQL statement sent to the database (including `begin`/`commit` and
   * statements that fail), with its SQL text. Used by tests to count statements.
   */
  onQuery?: (sql: string) => void;
  /**
   * One `db.query` span per statement, child of the active span, with the SQL text (placeholders,
   * never the bound values) and its duration. Default: false.
   */
  traceQueries?: boolean;
}

/** Default wait for another process's lock on a SQLite file, in milliseconds. */
const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_POOL_SIZE = 10;
/** Default wait for a pooled PostgreSQL connection, in milliseconds. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default longest PostgreSQL statement, in milliseconds. */
const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
/** How much longer than the statement timeout the client waits for an answer, in milliseconds. */
const CLIENT_READ_MARGIN_MS = 1000;
const IDENTIFIER_LIST = /^[A-Za-z_][A-Za-z0-9_$]*(?:,[A-Za-z_][A-Za-z0-9_$]*)*$/;

/**
 * Opens a database and checks that it answers. Throws when the configuration is invalid
 * or the database is unreachable (the pool is closed again in that case).
 */
export async function createDatabase(config: DatabaseConfig, options: CreateDatabaseOptions = {}): Promise<Database> {
  const log = queryLogger(options.onQuery, options.traceQueries === true ? config.kind : undefined);
  const opened: { dialect: SqliteDialect | PostgresDialect; pool?: pg.Pool } = config.kind === 'sqlite' ? openSqlite(config) : openPostgres(config);
  const db = new Kysely<DatabaseSchema>({ dialect: withUnavailableErrors(opened.dialect), ...(log ? { log } : {}) });

  let closed: Promise<void> | undefined;
  const database: Database = {
    db,
    dialect: config.kind,
    async ping() {
      if (config.kind === 'postgres') {
        await sql`select 1`.execute(db);
        return;
      }
      // In WAL mode reads go on while another process holds the write lock: readiness means orders can be written.
      await db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        await sql`rollback`.execute(connection);
      });
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
    poolStats() {
      const { pool } = opened;
      return pool === undefined ? undefined : { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
  };
  try {
    await database.ping();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/**
 * Which of our two dialects a Kysely handle (or transaction) talks to. Throws for any other
 * dialect. Lets helpers such as migrateToLatest take just the Kysely handle.
 */
export function dialectOf(db: Kysely<any>): DatabaseDialect {
  const introspection = db.introspection;
  if (introspection instanceof PostgresIntrospector) return 'postgres';
  if (introspection instanceof SqliteIntrospector) return 'sqlite';
  throw new Error('Unsupported database dialect: expected SQLite or PostgreSQL');
}

function queryLogger(onQuery: ((sql: string) => void) | undefined, traced: DatabaseDialect | undefined): ((event: LogEvent) => void) | undefined {
  if (traced === undefined) return onQuery === undefined ? undefined : (event) => onQuery(event.query.sql);
  const system = traced === 'postgres' ? 'postgresql' : 'sqlite';
  return (event) => {
    onQuery?.(event.query.sql);
    const text = event.query.sql;
    const space = text.indexOf(' ');
    const span = tracer.startSpan('db.query', {
      kind: SpanKind.CLIENT,
      startTime: Date.now() - event.queryDurationMillis,
      attributes: { 'db.system.name': system, 'db.operation.name': (space === -1 ? text : text.slice(0, space)).toLowerCase(), 'db.query.text': text.slice(0, MAX_TRACED_SQL) },
    });
    if (event.level === 'error') span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(event.error));
    span.end();
  };
}

/** Longest SQL text put on a span. */
const MAX_TRACED_SQL = 2000;

function openSqlite(config: SqliteConfig): { dialect: SqliteDialect } {
  const inMemory = config.filename === SQLITE_MEMORY || config.filename === '';
  if (!inMemory) mkdirSync(dirname(config.filename), { recursive: true });
  const busyTimeoutMs = config.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new Error(`Database busyTimeoutMs must be a non-negative integer, got ${String(config.busyTimeoutMs)}`);
  // better-sqlite3 waits for a lock synchronously: the whole process waits up to this long.
  const connection = new SQLite(config.filename, { timeout: busyTimeoutMs });
  // WAL lets readers proceed while one writer commits; in-memory databases cannot use it.
  if (!inMemory) connection.pragma('journal_mode = WAL');
  // SQLite leaves foreign keys off per connection unless asked.
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return { dialect: new SqliteDialect({ database: cachedStatements(connection) }) };
}

function openPostgres(config: PostgresConfig): { dialect: PostgresDialect; pool: pg.Pool } {
  const poolSize = config.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new Error(`Database poolSize must be a positive integer, got ${String(config.poolSize)}`);
  }
  const connectTimeoutMs = config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const statementTimeoutMs = config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  for (const [name, value] of [['connectTimeoutMs', connectTimeoutMs], ['statementTimeoutMs', statementTimeoutMs]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`Database ${name} must be a positive integer, got ${String(value)}`);
  }
  const settings = ['-c TimeZone=UTC'];
  if (config.searchPath !== undefined) {
    if (!IDENTIFIER_LIST.test(config.searchPath)) {
      throw new Error('Database searchPath must be a comma-separated list of plain identifiers');
    }
    settings.push(`-c search_path=${config.searchPath}`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: poolSize,
    options: settings.join(' '),
    types: pgTypeParsers,
    // A request waits this long for a connection (free or new), not for ever, when PostgreSQL is away.
    connectionTimeoutMillis: connectTimeoutMs,
    // The server cancels a statement running longer (57014); the client gives up a little later
    // when the server does not answer at all (a dropped network path), and drops that connection.
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_READ_MARGIN_MS,
    // TCP keepalive notices a peer that vanished without closing the connection.
    keepAlive: true,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a
  // listener that would crash the process. The pool discards the client by itself.
  pool.on('error', () => {});
  // A client that is checked out (a transaction waiting on a request) and loses its connection
  // emits 'error' on itself, where the pool listens only while it is idle: without this listener
  // a dropped connection mid-transaction crashed the process. The statement under way rejects,
  // and the pool discards the client when it is released (it is no longer queryable).
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return { dialect: new PostgresDialect({ pool: config.preparedStatements === false ? pool : namedStatementPool(pool) }), pool };
}
