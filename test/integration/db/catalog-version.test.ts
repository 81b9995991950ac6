import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readCatalogVersion } from '../../../src/domain/catalog/product-repository.js';
import { type TestDatabase, databaseTargets, openTestDatabase } from '../../fixtures/databases.js';

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
});
