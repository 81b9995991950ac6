import { setTimeout as delay } from 'node:timers/promises';

/** How a transaction that lost to a concurrent one is retried. */
export interface RetryTransactionOptions {
  /** Runs at most, counting the first. Default: 5. */
  attempts?: number;
  /** Upper bound of the first backoff, in milliseconds; doubles per retry. Default: 10. */
  baseDelayMs?: number;
  /** Upper bound of any backoff, in milliseconds. Default: 200. */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). Default: Math.random. */
  random?: () => number;
  /** Waits this many milliseconds. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BASE_DELAY_MS = 10;
const DEFAULT_MAX_DELAY_MS = 200;

/**
 * Whether a driver error means "this transaction lost a race and was rolled back; the same
 * transaction run again may succeed": PostgreSQL's deadlock_detected (SQLSTATE 40P01) and
 * serialization_failure (40001), SQLite's SQLITE_BUSY family (a WAL snapshot went stale; a lock
 * held past the whole busy timeout reaches callers as DatabaseUnavailableError instead, see
 * db/unavailable-dialect.ts, and is answered 503 rather than run again).
 */
export function isTransientTransactionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = (error as { code: unknown }).code;
  return code === '40P01' || code === '40001' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
}

/**
 * Runs `transaction` (which must open, and so roll back, its own database transaction) and
 * runs it again when it fails with {@link isTransientTransactionError}, up to `attempts` runs
 * in all, after a random ("full jitter") backoff below an exponentially growing bound. Any
 * other error, and the last transient one, is thrown as it is.
 */
export async function retryTransaction<T>(transaction: () => Promise<T>, options: RetryTransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`retryTransaction attempts must be a positive integer, got ${attempts}`);
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || !isTransientTransactionError(error)) throw error;
      await sleep(Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}
