/**
 * A small key-value cache with per-entry expiry, possibly shared between replicas (Redis). Values
 * are strings: callers serialise, and store nothing secret (keys are hashes, never tokens).
 *
 * Implementations never throw from `get` or `set`: a backend failure is a miss (logged), so a
 * broken cache can slow requests down but never make a token acceptable.
 */
export interface SharedCache {
  /** The value stored under `key`, or undefined when absent, expired or the backend failed. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds (a positive integer; otherwise nothing is stored). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Releases connections; later calls are misses. */
  close(): Promise<void>;
}
