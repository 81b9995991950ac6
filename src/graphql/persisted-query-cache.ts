import { InMemoryLRUCache, type KeyValueCache, PrefixingKeyValueCache } from '@apollo/utils.keyvaluecache';

export interface PersistedQueryCacheOptions {
  /** Trusted documents: id (SHA-256 of the body) → body. Always served first, never evicted. */
  readonly trusted: ReadonlyMap<string, { readonly body: string }>;
  /**
   * Bytes (UTF-8) of query text that automatic persisted queries may keep, least recently used
   * evicted first; 0: no APQ store, only trusted documents are served by hash.
   */
  readonly apqMaxBytes: number;
  /**
   * Store documents that clients register with APQ (hash and query). false (trusted documents
   * enforced): nothing is stored, so a hash can only ever reference a trusted document.
   */
  readonly acceptRegistrations: boolean;
}

/**
 * The cache behind Apollo Server's `persistedQueries` option, so that a manifest id and an APQ
 * hash take one path through Apollo's pipeline: `get(hash)` answers a trusted document's body
 * first, then a bounded APQ store; `set` (an APQ registration, which Apollo makes only after
 * every `didResolveOperation` hook accepted the operation) goes to the APQ store when allowed.
 * An unknown hash is a miss, which Apollo answers `PERSISTED_QUERY_NOT_FOUND`.
 *
 * Keys arrive without Apollo's `apq:` prefix: this cache holds persisted queries only.
 */
export function createPersistedQueryCache(options: PersistedQueryCacheOptions): KeyValueCache<string> {
  const apq =
    options.apqMaxBytes > 0 && options.acceptRegistrations
      ? new InMemoryLRUCache<string>({ maxSize: options.apqMaxBytes, sizeCalculation: (query: string) => Buffer.byteLength(query, 'utf8') || 1 })
      : undefined;
  const cache: KeyValueCache<string> = {
    async get(hash) {
      return options.trusted.get(hash)?.body ?? (await apq?.get(hash));
    },
    async set(hash, query, setOptions) {
      if (apq === undefined || options.trusted.has(hash)) return;
      await apq.set(hash, query, setOptions);
    },
    async delete(hash) {
      return (await apq?.delete(hash)) ?? false;
    },
  };
  return PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(cache);
}
