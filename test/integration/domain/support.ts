import type { Kysely } from 'kysely';

import type { DatabaseSchema } from '../../../src/db/database-schema.js';
import { createCursorCodec } from '../../../src/domain/cursor-codec.js';
import { createRequestDeps, type RequestDeps } from '../../../src/domain/request-deps.js';

/** The cursor codec every test request shares, as every request of one server does. */
export const testCursors = createCursorCodec();

/** Fresh per-request deps (new loaders) over a test database. */
export function requestDeps(db: Kysely<DatabaseSchema>): RequestDeps {
  return createRequestDeps(db, { cursors: testCursors });
}

export async function setStock(db: Kysely<DatabaseSchema>, productId: number, stock: number): Promise<void> {
  await db.updateTable('products').set({ stock }).where('id', '=', productId).execute();
}

export async function stockOf(db: Kysely<DatabaseSchema>, productId: number): Promise<number> {
  const row = await db.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow();
  return row.stock;
}

export async function countRows(db: Kysely<DatabaseSchema>, table: keyof DatabaseSchema): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Row counts and stock that must not change when an operation fails. */
export async function snapshot(db: Kysely<DatabaseSchema>) {
  const stock = await db.selectFrom('products').select(['id', 'stock']).orderBy('id').execute();
  return {
    orders: await countRows(db, 'orders'),
    items: await countRows(db, 'order_items'),
    profiles: await countRows(db, 'profiles'),
    stock,
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail');
}
