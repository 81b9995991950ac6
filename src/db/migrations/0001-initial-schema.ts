import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

import type { DatabaseDialect } from '../database.js';

const ORDER_STATUSES = ['PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;

/**
 * Products, profiles, orders and order items. Money is integer minor units (bigint on
 * PostgreSQL, INTEGER affinity on SQLite); timestamps are `timestamptz` on PostgreSQL and
 * ISO-8601 UTC text on SQLite so both sort and compare correctly.
 */
export function initialSchema(dialect: DatabaseDialect): Migration {
  const postgres = dialect === 'postgres';
  const timestamp = postgres ? 'timestamptz' : 'text';
  const now = postgres ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const id = (col: ColumnDefinitionBuilder) =>
    postgres ? col.generatedByDefaultAsIdentity().primaryKey() : col.primaryKey().autoIncrement();
  const timestamps = (col: ColumnDefinitionBuilder) => col.notNull().defaultTo(now);
  const statusList = sql.join(ORDER_STATUSES.map((s) => sql.lit(s)));

  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('products')
        .addColumn('id', 'integer', id)
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('description', 'text')
        .addColumn('price_minor', 'bigint', (col) => col.notNull())
        .addColumn('currency', 'text', (col) => col.notNull().defaultTo('USD'))
        .addColumn('stock', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', timestamp, timestamps)
        .addColumn('updated_at', timestamp, timestamps)
        .addCheckConstraint('products_price_check', sql`price_minor >= 0`)
        .addCheckConstraint('products_stock_check', sql`stock >= 0`)
        .addCheckConstraint('products_currency_check', sql`length(currency) = 3`)
        .execute();

      await db.schema
        .createTable('profiles')
        .addColumn('id', 'integer', id)
        .addColumn('issuer', 'text', (col) => col.notNull())
        .addColumn('subject', 'text', (col) => col.notNull())
        .addColumn('display_name', 'text', (col) => col.notNull())
        .addColumn('email', 'text')
        .addColumn('created_at', timestamp, timestamps)
        .addColumn('updated_at', timestamp, timestamps)
        .addUniqueConstraint('profiles_issuer_subject_key', ['issuer', 'subject'])
        .execute();

      await db.schema
        .createTable('orders')
        .addColumn('id', 'integer', id)
        .addColumn('customer_id', 'integer', (col) => col.notNull().references('profiles.id'))
        .addColumn('status', 'text', (col) => col.notNull().defaultTo('PENDING'))
        .addColumn('total_minor', 'bigint', (col) => col.notNull())
        .addColumn('currency', 'text', (col) => col.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('request_fingerprint', 'text')
        .addColumn('placed_at', timestamp, timestamps)
        .addColumn('updated_at', timestamp, timestamps)
        .addCheckConstraint('orders_status_check', sql`status in (${statusList})`)
        .addCheckConstraint('orders_total_check', sql`total_minor >= 0`)
        // NULL keys never collide, so orders without a key are unconstrained.
        .addUniqueConstraint('orders_customer_idempotency_key', ['customer_id', 'idempotency_key'])
        .execute();

      await db.schema
        .createTable('order_items')
        .addColumn('id', 'integer', id)
        .addColumn('order_id', 'integer', (col) => col.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('product_id', 'integer', (col) => col.notNull().references('products.id'))
        .addColumn('quantity', 'integer', (col) => col.notNull())
        .addColumn('unit_price_minor', 'bigint', (col) => col.notNull())
        .addColumn('currency', 'text', (col) => col.notNull())
        .addColumn('position', 'integer', (col) => col.notNull())
        .addCheckConstraint('order_items_quantity_check', sql`quantity between 1 and 100`)
        .addCheckConstraint('order_items_price_check', sql`unit_price_minor >= 0`)
        // Also the index behind orderItemsByOrderId (where order_id in … order by position).
        .addUniqueConstraint('order_items_order_position_key', ['order_id', 'position'])
        .execute();

      // Profile.orders: where customer_id = ? [and status = ?] and id < ? order by id desc.
      await db.schema.createIndex('orders_customer_id_idx').on('orders').columns(['customer_id', 'id desc']).execute();
      // Admin listing filtered by status, newest first.
      await db.schema.createIndex('orders_status_id_idx').on('orders').columns(['status', 'id desc']).execute();
    },

    async down(db: Kysely<any>) {
      await db.schema.dropTable('order_items').execute();
      await db.schema.dropTable('orders').execute();
      await db.schema.dropTable('profiles').execute();
      await db.schema.dropTable('products').execute();
    },
  };
}
