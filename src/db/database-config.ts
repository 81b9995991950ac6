/** Where the data lives. SQLite for development and single-node use, PostgreSQL for production. */
export type DatabaseConfig = SqliteConfig | PostgresConfig;

export interface SqliteConfig {
  readonly kind: 'sqlite';
  /** A file path (its parent directory is created when missing) or `:memory:`. */
  readonly filename: string;
  /**
   * How long a statement waits for another connection's lock on the file before it fails with
   * SQLITE_BUSY (then `DatabaseUnavailableError`), in milliseconds. Default: 5000.
   */
  readonly busyTimeoutMs?: number;
}

export interface PostgresConfig {
  readonly kind: 'postgres';
  /** A `postgres://` or `postgresql://` connection URL. */
  readonly url: string;
  /** Maximum pooled connections. Default 10. */
  readonly poolSize?: number;
  /** Schema(s) searched for unqualified table names, comma-separated identifiers. Default: the server's. */
  readonly searchPath?: string;
  /**
   * How long a query waits for a pooled connection (a free one, or a new one opened) before it
   * fails with `DatabaseUnavailableError`, in milliseconds. Default: 5000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Longest run of one statement, in milliseconds: the server's `statement_timeout`, and the same
   * plus one second on the client (an unresponsive server, a dropped network path). Default: 15000.
   */
  readonly statementTimeoutMs?: number;
  /**
   * Send the code's statements as named prepared statements (parsed and planned once per
   * connection). Default true; turn off behind a pooler that shares connections per transaction.
   */
  readonly preparedStatements?: boolean;
}
