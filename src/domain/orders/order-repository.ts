import type { Insertable, Kysely } from 'kysely';

import type {
  DatabaseSchema,
  OrderItemRow,
  OrderItemTable,
  OrderRow,
  OrderStatus,
  OrderTable,
} from '../../db/database-schema.js';

type Db = Kysely<DatabaseSchema>;

/** Filters for an order listing; undefined/null means "any". */
export interface OrderFilter {
  readonly status?: OrderStatus | null;
  readonly customerId?: number | null;
}

/** Orders with these ids, in no particular order. */
export async function findOrdersByIds(db: Db, ids: readonly number[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('orders').selectAll().where('id', 'in', ids).execute();
}

/** Items of these orders, ordered by order id then position. */
export async function findItemsByOrderIds(db: Db, orderIds: readonly number[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom('order_items')
    .selectAll()
    .where('order_id', 'in', orderIds)
    .orderBy('order_id')
    .orderBy('position')
    .execute();
}

export async function findOrderByIdempotencyKey(
  db: Db,
  customerId: number,
  idempotencyKey: string,
): Promise<OrderRow | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

/** Up to `limit` orders with id below `beforeId`, newest (highest id) first. */
export async function findOrdersBefore(
  db: Db,
  filter: OrderFilter,
  beforeId: number | null,
  limit: number,
): Promise<OrderRow[]> {
  let query = db.selectFrom('orders').selectAll().orderBy('id', 'desc').limit(limit);
  if (filter.customerId !== undefined && filter.customerId !== null) {
    query = query.where('customer_id', '=', filter.customerId);
  }
  if (filter.status !== undefined && filter.status !== null) query = query.where('status', '=', filter.status);
  if (beforeId !== null) query = query.where('id', '<', beforeId);
  return query.execute();
}

export async function insertOrder(db: Db, values: Insertable<OrderTable>): Promise<OrderRow> {
  return db.insertInto('orders').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Inserts the items (one statement) and returns them by position. */
export async function insertOrderItems(
  db: Db,
  values: readonly Insertable<OrderItemTable>[],
): Promise<OrderItemRow[]> {
  const rows = await db.insertInto('order_items').values([...values]).returningAll().execute();
  return rows.sort((a, b) => a.position - b.position);
}

/**
 * Moves the order to `to` only if its status is still one of `from` (compare-and-set), so
 * of two concurrent moves only one wins. Returns the updated row, or undefined when the
 * status had changed (or the order does not exist).
 */
export async function updateOrderStatusIf(
  db: Db,
  orderId: number,
  from: readonly OrderStatus[],
  to: OrderStatus,
  updatedAt: string,
): Promise<OrderRow | undefined> {
  return db
    .updateTable('orders')
    .set({ status: to, updated_at: updatedAt })
    .where('id', '=', orderId)
    .where('status', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
}

export async function findOrderStatus(db: Db, orderId: number): Promise<OrderStatus | undefined> {
  const row = await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst();
  return row?.status;
}
