import { LRUCache } from 'lru-cache';
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
  // Expiry is kept in the entry and compared with the injected clock (an entry is a miss from
  // `expiresAt` on), rather than lru-cache's TTL, which serves an entry at its last millisecond too.
  const entries = new LRUCache<string, { value: string; expiresAt: number }>({ max: maxEntries });

  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (now() < entry.expiresAt) return entry.value;
      entries.delete(key);
      return undefined;
    },
    async set(key, value, ttlMs) {
      if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
      entries.set(key, { value, expiresAt: now() + Math.floor(ttlMs) });
    },
    async close() {
      entries.clear();
    },
  };
}
