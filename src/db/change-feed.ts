import { type Kysely, type Transaction, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from './database-config.js';
import type { DatabaseSchema } from './database-schema.js';

/** Passes messages between processes that share one SQLite file (`npm run start:cluster`'s workers, through the primary). */
export interface ChangeRelay {
  /** Sends a committed message to every other process. */
  send(message: unknown): void;
  /** Registers the receiver of the other processes' messages. */
  receive(listener: (message: unknown) => void): void;
}

/** Publishes inside a transaction; `publish` resolves once the message is queued in it. */
export type Publish = (message: object) => Promise<void>;

/**
 * Committed changes, delivered to every listener of every process sharing the database, once each,
 * only after commit and never for a rolled-back transaction.
 *
 * - PostgreSQL: `pg_notify` inside the writing transaction (PostgreSQL delivers it at commit, in
 *   commit order, and drops it on rollback) and one dedicated `LISTEN` connection per process;
 *   the process's own changes arrive through it too, so every replica sees each change once.
 * - SQLite: queued during the transaction and emitted in process after commit, and sent to the
 *   other processes through `relay` when one is given.
 */
export interface ChangeFeed {
  readonly kind: 'postgres' | 'local';
  /** Runs `work` in a transaction of `db`; messages published in it are delivered after commit. */
  transaction<T>(db: Kysely<DatabaseSchema>, work: (trx: Transaction<DatabaseSchema>, publish: Publish) => Promise<T>): Promise<T>;
  /** Every delivered message, in commit order; returns the unsubscribe function. */
  listen(listener: (message: unknown) => void): () => void;
  /**
   * Calls `listener` each time delivery stops (PostgreSQL: the LISTEN connection is lost): changes
   * committed from then until {@link ChangeFeed.delivering} is true again are never delivered.
   * Returns the unsubscribe function.
   */
  onInterrupted(listener: () => void): () => void;
  /** Whether committed changes are being delivered now (PostgreSQL: LISTEN is in place; SQLite: always). */
  delivering(): boolean;
  /** Resolves once the feed receives (PostgreSQL: LISTEN has been issued). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link createChangeFeed}. */
export interface ChangeFeedOptions {
  /** SQLite only: other processes on the same file. */
  readonly relay?: ChangeRelay;
  /** Told when the LISTEN connection is lost (messages committed until it is back are missed) and when it is back. */
  readonly onConnectionChange?: (state: 'lost' | 'restored', error?: Error) => void;
  /** Wait before reconnecting the LISTEN connection, ms. Default: 1000. */
  readonly reconnectDelayMs?: number;
}

/** PostgreSQL limits a notification payload to 8000 bytes. */
export const MAX_PAYLOAD_BYTES = 7900;

/** The feed for `config`'s database. */
export function createChangeFeed(config: DatabaseConfig, options: ChangeFeedOptions = {}): ChangeFeed {
  return config.kind === 'postgres' ? postgresFeed(config, options) : localFeed(options.relay);
}

class Listeners {
  readonly #all = new Set<(message: unknown) => void>();
  add(listener: (message: unknown) => void): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }
  emit(message: unknown): void {
    for (const listener of this.#all) listener(message);
  }
}

function localFeed(relay: ChangeRelay | undefined): ChangeFeed {
  const listeners = new Listeners();
  relay?.receive((message) => listeners.emit(message));
  return {
    kind: 'local',
    async transaction(db, work) {
      const queued: object[] = [];
      const result = await db.transaction().execute((trx) =>
        work(trx, async (message) => {
          queued.push(message);
        }),
      );
      // Committed: this attempt's messages only (a retried transaction's earlier attempts rolled back).
      for (const message of queued) {
        listeners.emit(message);
        relay?.send(message);
      }
      return result;
    },
    listen: (listener) => listeners.add(listener),
    onInterrupted: () => () => undefined,
    delivering: () => true,
    ready: async () => undefined,
    close: async () => undefined,
  };
}

/**
 * The channel of the connection's schema: NOTIFY is per database, and tests (and tenants) share
 * one database through schemas. The writer and the listener compute it alike, in SQL.
 */
const CHANNEL_SQL = `'orders_changes_' || substr(md5(current_schema()), 1, 16)`;

function postgresFeed(config: Extract<DatabaseConfig, { kind: 'postgres' }>, options: ChangeFeedOptions): ChangeFeed {
  const listeners = new Listeners();
  const interruptions = new Set<() => void>();
  const reconnectDelayMs = options.reconnectDelayMs ?? 1000;
  let client: pg.Client | undefined;
  let closed = false;
  let channel: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: config.url, ...(config.searchPath ? { options: `-c search_path=${config.searchPath}` } : {}) });
    c.on('error', () => undefined);
    await c.connect();
    try {
      const row = await c.query<{ channel: string }>(`select ${CHANNEL_SQL} as channel`);
      channel = row.rows[0]!.channel;
      c.on('notification', (n) => {
        if (n.channel !== channel || n.payload === undefined) return;
        let message: unknown;
        try {
          message = JSON.parse(n.payload);
        } catch {
          return;
        }
        listeners.emit(message);
      });
      await c.query(`listen ${channel}`);
    } catch (error) {
      await c.end().catch(() => undefined);
      throw error;
    }
    c.on('end', () => {
      if (closed) return;
      client = undefined;
      for (const listener of [...interruptions]) listener();
      options.onConnectionChange?.('lost');
      scheduleReconnect();
    });
    client = c;
  };
  const scheduleReconnect = () => {
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        () => options.onConnectionChange?.('restored'),
        (error: unknown) => {
          options.onConnectionChange?.('lost', error instanceof Error ? error : new Error(String(error)));
          if (!closed) scheduleReconnect();
        },
      );
    }, reconnectDelayMs);
    timer.unref();
  };
  const started = connect();
  started.catch(() => {
    if (!closed) scheduleReconnect();
  });

  return {
    kind: 'postgres',
    async transaction(db, work) {
      return db.transaction().execute((trx) =>
        work(trx, async (message) => {
          const payload = JSON.stringify(message);
          if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error(`change message of ${Buffer.byteLength(payload)} bytes is over the NOTIFY limit`);
          await sql`select pg_notify(${sql.raw(CHANNEL_SQL)}, ${payload})`.execute(trx);
        }),
      );
    },
    listen: (listener) => listeners.add(listener),
    onInterrupted(listener) {
      interruptions.add(listener);
      return () => interruptions.delete(listener);
    },
    delivering: () => client !== undefined,
    ready: () => started,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await started.catch(() => undefined);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
