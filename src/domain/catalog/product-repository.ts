import type { Kysely } from 'kysely';

import { dialectOf } from '../../db/database.js';
import type { DatabaseSchema, ProductRow, ProductTable } from '../../db/database-schema.js';
import { CATALOG_VERSION_PARTITIONS } from '../../db/migrations/0004-catalog-version-partitions.js';
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
// One statement, so one snapshot: the sum of the partitions' counters as of one moment.
const catalogVersion = preparedQuery((db) =>
  db.selectFrom('catalog_versions').select((eb) => eb.fn.sum<number | string | null>('version').as('version')),
);

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
 * Locks these product rows (`FOR UPDATE`) in ascending id order, then their catalog-version
 * partitions in ascending partition order, each in one statement, inside a transaction. Every
 * writer that changes several products locks them all this way first: the catalog-version
 * trigger then bumps partitions the transaction already holds, never waiting between two
 * product updates, so two transactions cannot wait for each other (without the second step,
 * orders for products 2 and 65 and for 1 and 66 would take partitions 2, 1 and 1, 2).
 * SQLite has no row locks (a write transaction holds the whole database): nothing to do.
 */
export async function lockProducts(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0 || dialectOf(db) !== 'postgres') return;
  await db.selectFrom('products').select('id').where('id', 'in', [...ids]).orderBy('id').forUpdate().execute();
  const partitions = [...new Set(ids.map(catalogPartitionOf))];
  await db.selectFrom('catalog_versions').select('partition').where('partition', 'in', partitions).orderBy('partition').forUpdate().execute();
}

/** The catalog-version partition a product's changes bump. */
export function catalogPartitionOf(productId: number): number {
  return productId % CATALOG_VERSION_PARTITIONS;
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

/**
 * The catalog version: the sum of the partitions' counters, which database triggers bump whenever
 * any product changes (in the changing transaction). It only grows, and is unchanged exactly
 * when no product changed.
 */
export async function readCatalogVersion(db: Db): Promise<number> {
  const [row] = await catalogVersion.execute(db, []);
  if (row === undefined || row.version === null) throw new Error('catalog_versions is empty: the database is not migrated');
  return Number(row.version);
}
