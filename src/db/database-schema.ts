import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Table types shared by SQLite and PostgreSQL. Money is integer minor units (cents);
 * timestamps are ISO-8601 UTC strings on SQLite and `timestamptz` on PostgreSQL, whose
 * pool is given a type parser that returns ISO strings, so rows always carry strings.
 */
type Timestamp = ColumnType<string, string | undefined, string>;

export interface ProductTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  price_minor: number;
  currency: string;
  stock: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProfileTable {
  id: Generated<number>;
  issuer: string;
  subject: string;
  display_name: string;
  email: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type OrderStatus = 'PENDING' | 'PAID' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';

export interface OrderTable {
  id: Generated<number>;
  customer_id: number;
  status: OrderStatus;
  total_minor: number;
  currency: string;
  idempotency_key: string | null;
  /** Hash of the normalised request, to detect a reused idempotency key with different input. */
  request_fingerprint: string | null;
  placed_at: Timestamp;
  updated_at: Timestamp;
}

export interface OrderItemTable {
  id: Generated<number>;
  order_id: number;
  product_id: number;
  quantity: number;
  unit_price_minor: number;
  currency: string;
  position: number;
}

/**
 * The catalog version in partitions (migration 0004): a change to a product bumps its partition's
 * counter (`id % CATALOG_VERSION_PARTITIONS`) by trigger; the catalog version is their sum.
 */
export interface CatalogVersionsTable {
  partition: number;
  version: number;
}

export interface DatabaseSchema {
  products: ProductTable;
  profiles: ProfileTable;
  orders: OrderTable;
  order_items: OrderItemTable;
  catalog_versions: CatalogVersionsTable;
}

export type ProductRow = Selectable<ProductTable>;
export type ProfileRow = Selectable<ProfileTable>;
export type OrderRow = Selectable<OrderTable>;
export type OrderItemRow = Selectable<OrderItemTable>;
export type NewProduct = Insertable<ProductTable>;
