/** Where the data lives. SQLite for development and single-node use, PostgreSQL for production. */
export type DatabaseConfig = SqliteConfig | PostgresConfig;

export interface SqliteConfig {
  readonly kind: 'sqlite';
  /** A file path (its parent directory is created when missing) or `:memory:`. */
  readonly filename: string;
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
   * Send the code's statements as named prepared statements (parsed and planned once per
   * connection). Default true; turn off behind a pooler that shares connections per transaction.
   */
  readonly preparedStatements?: boolean;
}
