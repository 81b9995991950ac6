import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { dialectOf } from '../../../src/db/database.js';
import { CATALOG_VERSION_PARTITIONS, catalogVersionPartitions } from '../../../src/db/migrations/0004-catalog-version-partitions.js';
import { lockProducts, readCatalogVersion, takeStock } from '../../../src/domain/catalog/product-repository.js';
import { placeOrder } from '../../../src/domain/orders/order-service.js';
import { type TestDatabase, databaseTargets, openTestDatabase, postgresTarget } from '../../fixtures/databases.js';
import { requestDeps } from '../../fixtures/domain.js';
import { userPrincipal } from '../../fixtures/principals.js';

describe.each(databaseTargets())('catalog version on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database?.cleanup());

  it('is bumped by every insert, update and delete of products, in the same transaction', async () => {
    const db = database.db;
    const v0 = await readCatalogVersion(db);
    await db.updateTable('products').set({ stock: 7 }).where('id', '=', 1).execute();
    const v1 = await readCatalogVersion(db);
    expect(v1).toBeGreaterThan(v0);
    const inserted = await db
      .insertInto('products')
      .values({ name: 'Version probe', description: null, price_minor: 100, currency: 'USD', stock: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const v2 = await readCatalogVersion(db);
    expect(v2).toBeGreaterThan(v1);
    await db.deleteFrom('products').where('id', '=', inserted.id).execute();
    expect(await readCatalogVersion(db)).toBeGreaterThan(v2);
  });

  it('is not bumped by a rolled-back change', async () => {
    const db = database.db;
    const before = await readCatalogVersion(db);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('products').set({ stock: 9 }).where('id', '=', 2).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await readCatalogVersion(db)).toBe(before);
  });
  it('keeps growing across migration 0004 and its reversal (a version read before is never read again)', async () => {
    const fresh = await openTestDatabase(target);
    try {
      const db = fresh.db;
      const migration = catalogVersionPartitions(dialectOf(db));
      const oldVersion = async () => Number((await sql<{ version: string | number }>`select version from catalog_state where id = 1`.execute(db)).rows[0]!.version);
      const v0 = await readCatalogVersion(db);
      await migration.down!(db);
      const v1 = await oldVersion();
      expect(v1).toBeGreaterThan(v0);
      await db.updateTable('products').set({ stock: 3 }).where('id', '=', 70 % CATALOG_VERSION_PARTITIONS).execute();
      const v2 = await oldVersion();
      expect(v2).toBeGreaterThan(v1);
      await migration.up(db);
      const v3 = await readCatalogVersion(db);
      expect(v3).toBeGreaterThan(v2);
      await db.updateTable('products').set({ stock: 4 }).where('id', '=', 5).execute();
      expect(await readCatalogVersion(db)).toBeGreaterThan(v3);
    } finally {
      await fresh.cleanup();
    }
  });

  it("bumps both partitions when a product's id moves it to another", async () => {
    const db = database.db;
    const inserted = await db
      .insertInto('products')
      .values({ name: 'Mover', description: null, price_minor: 100, currency: 'USD', stock: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const partitions = async () => (await db.selectFrom('catalog_versions').selectAll().orderBy('partition').execute()).map((r) => Number(r.version));
    const before = await partitions();
    const newId = inserted.id + 100_000 + 1;
    await db.updateTable('products').set({ id: newId }).where('id', '=', inserted.id).execute();
    const after = await partitions();
    const moved = after.map((v, p) => v - before[p]!).flatMap((d, p) => (d > 0 ? [p] : []));
    expect(moved.sort((x, y) => x - y)).toEqual([inserted.id % CATALOG_VERSION_PARTITIONS, newId % CATALOG_VERSION_PARTITIONS].sort((x, y) => x - y));
    await db.deleteFrom('products').where('id', '=', newId).execute();
  });
});

// Row locks exist on PostgreSQL only (a SQLite write transaction holds the whole database).
const postgres = postgresTarget();
(postgres ? describe : describe.skip)('catalog version partitions on PostgreSQL', () => {
  let database: TestDatabase;
  // Products in pairs of one partition each: 2 and 2 + P, 1 and 1 + P.
  const P = CATALOG_VERSION_PARTITIONS;
  beforeAll(async () => {
    database = await openTestDatabase(postgres!, { poolSize: 6 });
    const { n } = await database.db.selectFrom('products').select((eb) => eb.fn.max<number>('id').as('n')).executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    const missing = Array.from({ length: Math.max(0, P + 2 - Number(n)) }, (_, i) => ({ name: `Partition probe ${i}`, description: null, price_minor: 100, currency: 'USD', stock: 1000, created_at: now, updated_at: now }));
    if (missing.length > 0) await database.db.insertInto('products').values(missing).execute();
    await database.db.updateTable('products').set({ stock: 1000 }).execute();
  });
  afterAll(() => database?.cleanup());

  /** Resolves once the backend `pid` waits for a lock (the other transaction holds it). */
  async function waitingForLock(pid: number): Promise<void> {
    for (;;) {
      const { rows } = await sql<{ waiting: boolean }>`select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = ${pid}`.execute(database.db);
      if (rows[0]?.waiting) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('places an order while another transaction holds a stock change to a product of another partition', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held!: () => void;
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const open = database.db.transaction().execute(async (trx) => {
      await lockProducts(trx, [1]);
      await takeStock(trx, 1, 1, new Date().toISOString());
      held();
      await released;
    });
    await holding;
    // With one version row, this order would wait for the open transaction to end.
    const placed = await placeOrder(requestDeps(database.db), userPrincipal('unrelated-buyer'), { items: [{ productId: 2, quantity: 1 }] });
    expect(placed.created).toBe(true);
    release();
    await open;
  });

  it('makes orders whose products share partitions in crossed order wait, not deadlock', async () => {
    const now = new Date().toISOString();
    let firstTaken!: () => void;
    const taken = new Promise<void>((resolve) => {
      firstTaken = resolve;
    });
    let secondPid!: (pid: number) => void;
    const pid = new Promise<number>((resolve) => {
      secondPid = resolve;
    });
    let secondReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      secondReady = resolve;
    });
    // First: products 2 and P + 1 (partitions 2, 1). Second: products 1 and P + 2 (partitions 1, 2).
    const first = database.db.transaction().execute(async (trx) => {
      await lockProducts(trx, [2, P + 1]);
      await takeStock(trx, 2, 1, now);
      firstTaken();
      // Go on once the second holds partition 1, or waits for a lock this one holds.
      await Promise.race([ready, pid.then(waitingForLock)]);
      await takeStock(trx, P + 1, 1, now);
    });
    await taken;
    const second = database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      secondPid(rows[0]!.pid);
      await lockProducts(trx, [1, P + 2]);
      await takeStock(trx, 1, 1, now);
      secondReady();
      await takeStock(trx, P + 2, 1, now);
    });
    const outcomes = await Promise.allSettled([first, second]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason)).toEqual([]);
  });
});
