import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';

import type { DatabaseSchema } from '../db/database-schema.js';
import { findProductsByIds, type ProductView } from './catalog/product-repository.js';
import type { ProductRowCache } from './catalog/product-row-cache.js';
import { findItemsByOrderIds, findOrdersByIds, type OrderItemView, type OrderView } from './orders/order-repository.js';
import { initialDisplayName } from './profile/profile-input.js';
import { findOrCreateProfile, findProfilesByIds, type ProfileIdentity, type ProfileView } from './profile/profile-repository.js';
import { isRowId } from './row-id.js';

/** Key of the caller-profile loader: who is calling, and the name their token claims (used only if the profile is new). */
export interface CallerProfileKey extends ProfileIdentity {
  readonly claimedName: string | undefined;
}

/**
 * Per-request batching caches. Each id loader turns all loads of one tick into a single
 * `where id in (…)` statement and resolves in key order, with null (or an empty list)
 * for ids that do not exist. Create them per request: they cache rows for its lifetime.
 */
export interface Loaders {
  readonly productById: DataLoader<number, ProductView | null>;
  readonly orderById: DataLoader<number, OrderView | null>;
  /** The items of each order by position; an unknown order has none. */
  readonly orderItemsByOrderId: DataLoader<number, readonly OrderItemView[]>;
  readonly profileById: DataLoader<number, ProfileView | null>;
  /** Find-or-create of the caller's profile, memoised by issuer + subject. */
  readonly callerProfile: DataLoader<CallerProfileKey, ProfileView, string>;
}

export interface CreateLoadersOptions {
  /** Clock for rows the loaders create (a first-use profile). Default: the current time. */
  now?: () => Date;
  /** Product rows shared between requests (served per catalog version). Default: none, every batch is read. */
  products?: ProductRowCache;
}

// Keeps one statement's parameter list well under SQLite's and PostgreSQL's limits.
const MAX_BATCH_SIZE = 1000;

/** Builds a fresh set of loaders over the shared database handle. */
export function createLoaders(db: Kysely<DatabaseSchema>, options: CreateLoadersOptions = {}): Loaders {
  const now = options.now ?? (() => new Date());
  const profileById = byId((ids) => findProfilesByIds(db, ids));
  const shared = options.products;
  return {
    productById: byId(shared ? (ids) => shared.findByIds(db, ids) : (ids) => findProductsByIds(db, ids)),
    orderById: byId((ids) => findOrdersByIds(db, ids)),
    orderItemsByOrderId: new DataLoader<number, readonly OrderItemView[]>(
      async (orderIds) => {
        const items = await findItemsByOrderIds(db, orderIds.filter(isRowId));
        const grouped = new Map<number, OrderItemView[]>();
        for (const item of items) {
          const list = grouped.get(item.order_id);
          if (list === undefined) grouped.set(item.order_id, [item]);
          else list.push(item);
        }
        return orderIds.map((id) => grouped.get(id) ?? []);
      },
      { maxBatchSize: MAX_BATCH_SIZE },
    ),
    profileById,
    callerProfile: new DataLoader<CallerProfileKey, ProfileView, string>(
      async (keys) => {
        // One key per request in practice (one principal), so no batching is attempted.
        const rows: ProfileView[] = [];
        for (const key of keys) {
          const row = await findOrCreateProfile(db, key, () => ({ displayName: initialDisplayName(key.claimedName), createdAt: now().toISOString() }));
          profileById.prime(row.id, row);
          rows.push(row);
        }
        return rows;
      },
      { cacheKeyFn: (key) => `${key.issuer}\n${key.subject}` },
    ),
  };
}

function byId<T extends { id: number }>(
  fetch: (ids: readonly number[]) => Promise<T[]>,
): DataLoader<number, T | null> {
  return new DataLoader<number, T | null>(
    async (ids) => {
      // Ids outside the column's range cannot exist; asking would make PostgreSQL fail.
      const rows = await fetch(ids.filter(isRowId));
      const found = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}
