import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { DEMO_PRODUCT_COUNT } from '../../../src/db/seed.js';
import { getProduct, listProducts } from '../../../src/domain/catalog/catalog-service.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { rejection, requestDeps, testCursors } from '../../fixtures/domain.js';

describe.each(databaseTargets())('catalog on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  it('lists 20 products by id by default, with a cursor to the next page', async () => {
    const page = await listProducts(requestDeps(database.db), {});
    expect(page.edges.map((e) => e.node.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(testCursors.decode('after', page.pageInfo.endCursor)).toBe(20);
    expect(testCursors.decode('after', page.edges[0]?.cursor)).toBe(1);
  });

  it('walks every product exactly once by following endCursor', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await listProducts(requestDeps(database.db), { first: 25, after });
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(Array.from({ length: DEMO_PRODUCT_COUNT }, (_, i) => i + 1));
  });

  it('reports no next page on the last page', async () => {
    const page = await listProducts(requestDeps(database.db), { first: 5, after: testCursors.encode(DEMO_PRODUCT_COUNT - 5) });
    expect(page.edges).toHaveLength(5);
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  it('returns an empty page for first: 0', async () => {
    const page = await listProducts(requestDeps(database.db), { first: 0 });
    expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  it('caps first at 100', async () => {
    const extra = Array.from({ length: 60 }, (_, i) => ({
      name: `Spare part ${i}`,
      description: null,
      price_minor: 100 + i,
      currency: 'USD',
      stock: 1,
    }));
    await database.db.insertInto('products').values(extra).execute();
    const page = await listProducts(requestDeps(database.db), { first: 1000 });
    expect(page.edges).toHaveLength(100);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('rejects a cursor it did not issue, naming after', async () => {
    expect(await rejection(listProducts(requestDeps(database.db), { after: 'not-a-cursor' }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  });

  it('rejects a negative first, naming first', async () => {
    expect(await rejection(listProducts(requestDeps(database.db), { first: -1 }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
  });

  it('gets a product by id, and null for an unknown id', async () => {
    const deps = requestDeps(database.db);
    await expect(getProduct(deps, 2)).resolves.toMatchObject({ id: 2, name: 'Pour-Over Coffee Dripper', price_minor: 2400 });
    await expect(getProduct(deps, 999_999)).resolves.toBeNull();
    await expect(getProduct(deps, 2 ** 40)).resolves.toBeNull();
  });

  it('serves listed products to later lookups without another statement', async () => {
    const deps = requestDeps(database.db);
    database.statements.reset();
    await listProducts(deps, { first: 3 });
    await Promise.all([getProduct(deps, 1), getProduct(deps, 2), getProduct(deps, 3)]);
    expect(database.statements.count).toBe(1);
  });
});
