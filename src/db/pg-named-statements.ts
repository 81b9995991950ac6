import type { PostgresCursor, PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Distinct SQL texts given a name per process; later texts run unnamed. */
export const NAMED_STATEMENT_LIMIT = 256;

/**
 * Statements worth naming: reads and writes whose result columns are spelled out. Not `select *`
 * or `returning *`: PostgreSQL refuses to run a prepared statement whose result columns changed
 * ("cached plan must not change result type"), which a migration run by another replica while this
 * one is up would cause for every connection that had prepared it. Not `begin`, DDL and the like,
 * which gain nothing from it.
 */
const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;
const STAR_COLUMNS = /(?:^|[\s,(])(?:select|returning)\s+\*|\.\*/i;

/** The name of each SQL text that has one, given out once and never reused for another text. */
export class StatementNames {
  readonly #names = new Map<string, string | null>();
  #next = 0;

  constructor(readonly limit: number = NAMED_STATEMENT_LIMIT) {}

  /** The statement's name, or undefined when it runs unnamed (not nameable, or the limit is reached). */
  nameOf(sql: string): string | undefined {
    const known = this.#names.get(sql);
    if (known !== undefined) return known ?? undefined;
    if (this.#next >= this.limit) return undefined;
    const name = NAMEABLE.test(sql) && !STAR_COLUMNS.test(sql) ? `k${this.#next++}` : null;
    this.#names.set(sql, name);
    return name ?? undefined;
  }

  /** Texts named so far. */
  get size(): number {
    return this.#next;
  }
}

/**
 * The pool as Kysely's PostgreSQL dialect sees it, sending the code's statements as named
 * prepared statements (pg's `name` in the query config): each connection parses and plans a
 * statement once, then only binds and executes it, where an unnamed statement is parsed and
 * planned on every execution. Names are per process and per SQL text, so a name always means the
 * same text on every connection (pg refuses a name reused for another text). At most
 * {@link NAMED_STATEMENT_LIMIT} texts are named: the code's SQL is a fixed set, but `in (…)` lists
 * make one text per list length, and each named statement stays allocated on every connection
 * that ran it until the connection closes.
 *
 * Off where connections are shared between clients at the statement or transaction level (a
 * pooler such as PgBouncer in transaction mode before 1.21): `DATABASE_PREPARED_STATEMENTS=false`.
 */
export function namedStatementPool(pool: pg.Pool, names: StatementNames = new StatementNames()): PostgresPool {
  // One wrapper per pg client, so Kysely (which keeps its connection objects per client) sees the same client each time.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const query = (sqlOrCursor: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>) => {
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as unknown as pg.Submittable);
      const values = parameters as unknown[];
      const name = names.nameOf(sqlOrCursor);
      return name === undefined ? client.query(sqlOrCursor, values) : client.query({ name, text: sqlOrCursor, values });
    };
    return {
      // pg's overloads (text, or a cursor) are one function; Kysely's two-overload type cannot be inferred from it.
      query: query as unknown as PostgresPoolClient['query'],
      release: () => client.release(),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) wrappers.set(client, (wrapper = wrap(client)));
      return wrapper;
    },
    end: () => pool.end(),
  };
}
