import type { Kysely } from 'kysely';

import { dialectOf } from '../../db/database.js';
import type { DatabaseSchema, ProductRow, ProductTable } from '../../db/database-schema.js';
import { preparedQuery } from '../../db/prepared-query.js';

type Db = Kysely<DatabaseSchema>;

/** The columns a product is read with: what resolvers and placeOrder's checks use (not the timestamps). */
const PRODUCT_COLUMNS = ['id', 'name', 'description', 'price_minor', 'currency', 'stock'] as const satisfies readonly (keyof ProductTable)[];
/** A product as the read paths carry it (see PRODUCT_COLUMNS); full rows (ProductRow) are assignable to it. */
export type ProductView = Pick<ProductRow, (typeof PRODUCT_COLUMNS)[number]>;

const productsByIds = preparedQuery((db, $) => db.selectFrom('products').select(PRODUCT_COLUMNS).where('id', 'in', $.list<number>(0)));
/** Arguments: limit, after id (may be absent). */
const productsAfter = preparedQuery((db, $, args) => {
  const query = db.selectFrom('products').select(PRODUCT_COLUMNS).orderBy('id', 'asc').limit($.value<number>(0));
  return args[1] != null ? query.where('id', '>', $.value<number>(1)) : query;
});
const catalogVersion = preparedQuery((db) => db.selectFrom('catalog_state').select('version').where('id', '=', 1));

/** Products with these ids, in no particular order; missing ids are simply absent. */
export async function findProductsByIds(db: Db, ids: readonly number[]): Promise<ProductView[]> {
  if (ids.length === 0) return [];
  return productsByIds.execute(db, [ids]);
}

/** Up to `limit` products with id greater than `afterId`, by id ascending. */
export async function findProductsAfter(db: Db, afterId: number | null, limit: number): Promise<ProductView[]> {
  return productsAfter.execute(db, [limit, afterId]);
}

/**
 * Locks these product rows (`FOR UPDATE`) in ascending id order, in one statement, inside a
 * transaction. Every writer that changes several products locks them all this way first: the
 * catalog-version trigger then takes the `catalog_state` row only after all of a transaction's
 * product locks, never between two of them, so two transactions cannot wait for each other.
 * SQLite has no row locks (a write transaction holds the whole database): nothing to do.
 */
export async function lockProducts(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0 || dialectOf(db) !== 'postgres') return;
  await db.selectFrom('products').select('id').where('id', 'in', [...ids]).orderBy('id').forUpdate().execute();
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
  const [row] = await catalogVersion.execute(db, []);
  if (row === undefined) throw new Error('catalog_state has no row: the database is not migrated');
  return Number(row.version);
}
