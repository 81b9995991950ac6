import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { CompiledQuery, sql } from 'kysely';

import type { NewProduct } from '../../../src/db/database-schema.js';
import { migrateToLatest, MigrationError } from '../../../src/db/migrate.js';
import { DEMO_PRODUCT_COUNT, seedCatalog } from '../../../src/db/seed.js';
import { findItemsByOrderIds, findOrdersBefore } from '../../../src/domain/orders/order-repository.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { constraintViolation } from '../../fixtures/constraint-violation.js';

describe.each(databaseTargets())('schema and seed on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  const product = (overrides: Partial<NewProduct> = {}): NewProduct => ({
    name: 'Test product',
    description: null,
    price_minor: 100,
    currency: 'USD',
    stock: 1,
    ...overrides,
  });
  const profile = async (subject: string) =>
    database.db
      .insertInto('profiles')
      .values({ issuer: 'https://i', subject, display_name: subject, email: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  const order = (customerId: number, idempotencyKey: string | null = null) => ({
    customer_id: customerId,
    status: 'PENDING' as const,
    total_minor: 0,
    currency: 'USD',
    idempotency_key: idempotencyKey,
    request_fingerprint: null,
  });

  it('seeds at least 60 realistic products', async () => {
    const products = await database.db.selectFrom('products').selectAll().orderBy('id').execute();
    expect(DEMO_PRODUCT_COUNT).toBeGreaterThanOrEqual(60);
    expect(products).toHaveLength(DEMO_PRODUCT_COUNT);
    expect(new Set(products.map((p) => p.name)).size).toBe(products.length);
    for (const p of products) {
      expect(p.name.length).toBeGreaterThan(3);
      expect(p.description?.length ?? 0).toBeGreaterThan(10);
      expect(Number.isInteger(p.price_minor) && p.price_minor > 0).toBe(true);
      expect(p.currency).toBe('USD');
      expect(p.stock).toBeGreaterThanOrEqual(0);
    }
    expect(products[0]).toMatchObject({ id: 1, name: 'Enamel Camp Mug', price_minor: 1499 });
  });

  it('seeds nothing when products exist', async () => {
    await expect(seedCatalog(database.db)).resolves.toEqual({ inserted: 0 });
    const { n } = await database.db
      .selectFrom('products')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(DEMO_PRODUCT_COUNT);
  });

  it('applies nothing when already at the latest migration', async () => {
    await expect(migrateToLatest(database.db)).resolves.toEqual({ applied: [] });
  });

  it('rejects negative stock and negative prices', async () => {
    expect(await constraintViolation(database.db.insertInto('products').values(product({ stock: -1 })).execute())).toBe('check');
    expect(await constraintViolation(database.db.insertInto('products').values(product({ price_minor: -1 })).execute())).toBe('check');
    expect(
      await constraintViolation(database.db.updateTable('products').set({ stock: -1 }).where('id', '=', 1).execute()),
    ).toBe('check');
  });

  it('rejects an unknown order status', async () => {
    const customer = await profile('status-check');
    expect(
      await constraintViolation(
        database.db.insertInto('orders').values({ ...order(customer.id), status: 'LOST' as never }).execute(),
      ),
    ).toBe('check');
  });

  it('keeps line quantities between 1 and 100', async () => {
    const customer = await profile('quantity-check');
    const { id } = await database.db.insertInto('orders').values(order(customer.id)).returning('id').executeTakeFirstOrThrow();
    const item = (quantity: number, position: number) => ({
      order_id: id,
      product_id: 1,
      quantity,
      unit_price_minor: 100,
      currency: 'USD',
      position,
    });
    const insert = (values: ReturnType<typeof item> | ReturnType<typeof item>[]) =>
      constraintViolation(database.db.insertInto('order_items').values(values).execute());
    expect(await insert(item(0, 0))).toBe('check');
    expect(await insert(item(101, 0))).toBe('check');
    expect(await insert([item(1, 0), item(100, 1)])).toBe('none');
    expect(await insert({ ...item(1, 2), product_id: 999_999 })).toBe('foreign_key');
  });

  it('allows one profile per issuer and subject', async () => {
    await profile('unique-subject');
    expect(await constraintViolation(profile('unique-subject'))).toBe('unique');
  });

  it('allows an idempotency key once per customer, and any number of orders without one', async () => {
    const a = await profile('key-a');
    const b = await profile('key-b');
    await database.db.insertInto('orders').values([order(a.id), order(a.id), order(a.id, 'k1'), order(b.id, 'k1')]).execute();
    expect(await constraintViolation(database.db.insertInto('orders').values(order(a.id, 'k1')).execute())).toBe('unique');
  });

  it('has the indexes the listings and loaders use', async () => {
    const names =
      target.name === 'postgres'
        ? (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`.execute(database.db)).rows
        : (await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(database.db)).rows;
    const found = names.map((r) => r.name);
    expect(found).toEqual(expect.arrayContaining(['orders_status_id_idx']));
    // SQLite names the index behind a UNIQUE constraint itself.
    if (target.name === 'postgres') {
      expect(found).toEqual(expect.arrayContaining(['orders_customer_id_idx', 'order_items_order_position_key', 'profiles_issuer_subject_key', 'orders_customer_idempotency_key']));
    } else {
      expect(found).toEqual(expect.arrayContaining(['orders_customer_page_idx', 'order_items_order_covering_idx']));
      expect(found).not.toContain('orders_customer_id_idx'); // replaced by the covering one
    }
  });

  it('answers a customer\'s order page and its items from covering indexes alone (SQLite)', async () => {
    if (target.name !== 'sqlite') return;
    // The statements the repositories send, explained with their own parameters.
    database.statements.reset();
    await findOrdersBefore(database.db, { customerId: 1 }, null, 21);
    await findItemsByOrderIds(database.db, [1, 2, 3]);
    const [page, items] = database.statements.sql;
    const plan = async (statement: string | undefined, parameters: unknown[]) =>
      (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${statement}`, parameters))).rows.map((r) => r.detail).join('; ');
    expect(await plan(page, [1, 21])).toMatch(/COVERING INDEX orders_customer_page_idx/);
    expect(await plan(items, [1, 2, 3])).toMatch(/COVERING INDEX order_items_order_covering_idx/);
  });

  it('reports which migration failed', async () => {
    const broken = await openTestDatabase(target, { seed: false });
    try {
      // Forget the applied migrations: re-running the first one then fails on existing tables.
      await broken.db.schema.dropTable('kysely_migration').execute();
      const error = await migrateToLatest(broken.db).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ migration: '0001-initial-schema' });
      expect((error as Error).message).toContain('0001-initial-schema');
    } finally {
      await broken.cleanup();
    }
  });
});
