import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ProductRowCache } from '../../../src/domain/catalog/product-row-cache.js';
import { findProductsByIds, readCatalogVersion } from '../../../src/domain/catalog/product-repository.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';

const sorted = <T extends { id: number }>(rows: T[]) => [...rows].sort((a, b) => a.id - b.id);

describe.each(databaseTargets())('ProductRowCache on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  it('answers like the repository, and a repeat reads only the catalog version', async () => {
    const cache = new ProductRowCache();
    const ids = [3, 1, 2, 999];
    const direct = sorted(await findProductsByIds(database.db, ids));
    expect(sorted(await cache.findByIds(database.db, ids))).toEqual(direct);
    database.statements.reset();
    expect(sorted(await cache.findByIds(database.db, [1, 2, 3]))).toEqual(direct);
    expect(database.statements.count).toBe(1); // the version only
    expect(database.statements.sql[0]).toMatch(/catalog_versions/);
    database.statements.reset();
    await cache.findByIds(database.db, [1, 999]);
    expect(database.statements.count).toBe(2); // an id that does not exist is asked for again
  });

  it('drops every row when any product changes, by any statement', async () => {
    const cache = new ProductRowCache();
    const [before] = await cache.findByIds(database.db, [4]);
    // Written around the application, as another process or an operator would.
    await database.db.updateTable('products').set({ stock: before!.stock + 5, price_minor: before!.price_minor + 1 }).where('id', '=', 4).execute();
    const [after] = await cache.findByIds(database.db, [4]);
    expect(after).toMatchObject({ stock: before!.stock + 5, price_minor: before!.price_minor + 1 });
  });

  it('hands out frozen rows (every request shares them)', async () => {
    const cache = new ProductRowCache();
    const [row] = await cache.findByIds(database.db, [5]);
    expect(Object.isFrozen(row)).toBe(true);
  });

  it('bypasses, never rolls back to, a version older than its own (a slow concurrent read)', async () => {
    const cache = new ProductRowCache();
    const version = await readCatalogVersion(database.db);
    // Partition 0 carries the difference: the version is the sum of the partitions.
    const base = Number((await database.db.selectFrom('catalog_versions').select('version').where('partition', '=', 0).executeTakeFirstOrThrow()).version);
    const setVersion = (v: number) => database.db.updateTable('catalog_versions').set({ version: base + v - version }).where('partition', '=', 0).execute();
    await setVersion(version + 10);
    await cache.findByIds(database.db, [6]);
    await setVersion(version); // as seen by a read that started before the last change
    database.statements.reset();
    await cache.findByIds(database.db, [6]);
    expect(database.statements.count).toBe(2); // the version, then the row itself
    await setVersion(version + 10);
    database.statements.reset();
    await cache.findByIds(database.db, [6]);
    expect(database.statements.count).toBe(1); // the row kept under the newer version is still served
  });

  it('keeps at most maxEntries rows', async () => {
    const cache = new ProductRowCache({ maxEntries: 2 });
    await cache.findByIds(database.db, [1, 2, 3]);
    expect(cache.size).toBe(2);
    expect(() => new ProductRowCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});
