import type { Kysely } from 'kysely';

import { LRUCache } from 'lru-cache';
import type { DatabaseSchema } from '../../db/database-schema.js';
import { findProductsByIds, readCatalogVersion, type ProductView } from './product-repository.js';

type Db = Kysely<DatabaseSchema>;

export interface ProductRowCacheOptions {
  /** Product rows kept at most; when full, the least recently used are dropped first. Default: 10000. */
  readonly maxEntries?: number;
}

/**
 * Product rows shared by every request of one server, served only under the catalog version they
 * were read at: each lookup first reads the version (one statement, which database triggers bump
 * on any change to `products` — stock and prices included, by this process or any other) and
 * drops every row when it moved. Products are public catalog data: nothing here depends on who
 * asks. Rows are frozen, since every request shares them.
 *
 * A row is stored only when the version was read before it, so a cached row is never older than
 * the version it is served under; a version read that comes back older than the cache's (a slow
 * concurrent read) bypasses the cache instead of rolling it back.
 */
export class ProductRowCache {
  readonly #rows: LRUCache<number, ProductView>;
  #version: number | undefined;

  constructor(options: ProductRowCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#rows = new LRUCache({ max: maxEntries });
  }

  /** Products with these ids, in no particular order; missing ids are simply absent. */
  async findByIds(db: Db, ids: readonly number[]): Promise<ProductView[]> {
    if (ids.length === 0) return [];
    const version = await readCatalogVersion(db);
    if (this.#version === undefined || version > this.#version) {
      this.#rows.clear();
      this.#version = version;
    } else if (version < this.#version) {
      return findProductsByIds(db, ids);
    }
    const found: ProductView[] = [];
    const missing: number[] = [];
    for (const id of ids) {
      const row = this.#rows.get(id);
      if (row === undefined) missing.push(id);
      else found.push(row);
    }
    if (missing.length === 0) return found;
    const fetched = await findProductsByIds(db, missing);
    // The version may have moved on while the rows were read: then they belong to no entry.
    const store = this.#version === version;
    for (const row of fetched) {
      const frozen = Object.freeze(row);
      found.push(frozen);
      if (store) this.#rows.set(frozen.id, frozen);
    }
    return found;
  }

  /** Rows currently held. */
  get size(): number {
    return this.#rows.size;
  }
}
