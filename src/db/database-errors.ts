/**
 * Whether a driver error is a unique-constraint violation: SQLSTATE 23505 on PostgreSQL,
 * SQLITE_CONSTRAINT_UNIQUE (or _PRIMARYKEY) on SQLite.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = (error as { code: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** SQLSTATEs of a server that is going away, refusing connections, or cancelled a statement on its timeout. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** Socket-level failures of the connection to the database server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres and pg-pool failures that carry no code, by message. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'Client has encountered a connection error',
];

/**
 * Whether a driver error means "the database cannot be used right now" rather than "this
 * statement is wrong": the connection was refused, dropped or timed out (SQLSTATE class 08, the
 * server shutting down or terminating the session — `pg_terminate_backend` is 57P01 —, too many
 * connections, a statement cancelled by `statement_timeout`, a pool or read timeout), or SQLite's
 * file stayed locked by another connection past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
 * SQLITE_BUSY_SNAPSHOT (a stale WAL snapshot) is a lost race, not an outage: the transaction
 * retry handles it.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_TIMEOUT' || code === 'SQLITE_LOCKED' || code === 'SQLITE_PROTOCOL') return true;
    if (code.startsWith('08') && code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code)) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return PG_CONNECTION_MESSAGES.some((text) => message.includes(text));
}
