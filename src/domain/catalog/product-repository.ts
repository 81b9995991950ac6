import type { Kysely } from 'kysely';

import type { DatabaseSchema, ProductRow } from '../../db/database-schema.js';

type Db = Kysely<DatabaseSchema>;

/** Products with these ids, in no particular order; missing ids are simply absent. */
export async function findProductsByIds(db: Db, ids: readonly number[]): Promise<ProductRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('products').selectAll().where('id', 'in', ids).execute();
}

/** Up to `limit` products with id greater than `afterId`, by id ascending. */
export async function findProductsAfter(db: Db, afterId: number | null, limit: number): Promise<ProductRow[]> {
  let query = db.selectFrom('products').selectAll().orderBy('id', 'asc').limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.execute();
}

/**
 * Takes `quantity` units if that many are in stock, in one conditional UPDATE (which also
 * locks the row until the transaction ends). Returns the price and currency read under
 * that lock, or undefined when the product is missing or has too little stock.
 */
export async function takeStock(
  db: Db,
  productId: number,
  quantity: number,
  updatedAt: string,
): Promise<Pick<ProductRow, 'id' | 'price_minor' | 'currency'> | undefined> {
  return db
    .updateTable('products')
    .set((eb) => ({ stock: eb('stock', '-', quantity), updated_at: updatedAt }))
    .where('id', '=', productId)
    .where('stock', '>=', quantity)
    .returning(['id', 'price_minor', 'currency'])
    .executeTakeFirst();
}

/** Puts `quantity` units back in stock. */
export async function returnStock(db: Db, productId: number, quantity: number, updatedAt: string): Promise<void> {
  await db
    .updateTable('products')
    .set((eb) => ({ stock: eb('stock', '+', quantity), updated_at: updatedAt }))
    .where('id', '=', productId)
    .execute();
}

/** The catalog version: bumped by database triggers whenever any product changes. */
export async function readCatalogVersion(db: Db): Promise<number> {
  const row = await db.selectFrom('catalog_state').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.version);
}
