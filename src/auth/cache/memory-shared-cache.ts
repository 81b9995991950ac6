import type { SharedCache } from './shared-cache.js';

/** Options for {@link createMemorySharedCache}. */
export interface MemorySharedCacheOptions {
  /** Upper bound on entries; the least recently used go first. Default: 10000. */
  maxEntries?: number;
  /** Clock, for expiry. Default: `Date.now`. */
  now?: () => number;
}

/** A {@link SharedCache} in this process only (used when no `REDIS_URL` is configured). */
export function createMemorySharedCache(options: MemorySharedCacheOptions = {}): SharedCache {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order; a hit re-inserts, so the first key is the least recently used.
  const entries = new Map<string, { value: string; expiresAt: number }>();

  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (now() >= entry.expiresAt) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    async set(key, value, ttlMs) {
      if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + Math.floor(ttlMs) });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    async close() {
      entries.clear();
    },
  };
}
