import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { placeOrder } from '../../../src/domain/orders/order-service.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';
import { countRows, requestDeps, setStock, stockOf } from '../../fixtures/domain.js';

// These matter most on PostgreSQL, where requests run on separate connections; on SQLite
// they check that the same code is also correct when transactions are serialised.
describe.each(databaseTargets())('concurrent orders on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target, { poolSize: 10 });
  });
  afterAll(() => database.cleanup());

  it('never oversells: 20 buyers for the last 5 units, exactly 5 succeed', async () => {
    await setStock(database.db, 20, 5);
    const ordersBefore = await countRows(database.db, 'orders');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(requestDeps(database.db), userPrincipal(`rush-${i}`), { items: [{ productId: 20, quantity: 1 }] }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const r of failed) expect(r.reason).toMatchObject({ extensions: { reason: 'INSUFFICIENT_STOCK', field: 'input.items[0].quantity' } });
    expect(await stockOf(database.db, 20)).toBe(0);
    expect(await countRows(database.db, 'orders')).toBe(ordersBefore + 5);
  });

  it('places one order when identical requests with the same key race', async () => {
    await setStock(database.db, 21, 100);
    const buyer = userPrincipal('double-clicker');
    const input = { items: [{ productId: 21, quantity: 2 }], idempotencyKey: 'checkout-race' };
    // The first request creates the profile; the race is about the order.
    await placeOrder(requestDeps(database.db), buyer, { items: [{ productId: 21, quantity: 1 }] });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => placeOrder(requestDeps(database.db), buyer, input)),
    );
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await stockOf(database.db, 21)).toBe(100 - 1 - 2);
  });

  it('returns the winner to a same-key twin even when the winner took the last units', async () => {
    await setStock(database.db, 22, 2);
    const buyer = userPrincipal('last-units');
    const input = { items: [{ productId: 22, quantity: 2 }], idempotencyKey: 'last-units-key' };
    const results = await Promise.all([
      placeOrder(requestDeps(database.db), buyer, input),
      placeOrder(requestDeps(database.db), buyer, input),
    ]);
    expect(results[0].order.id).toBe(results[1].order.id);
    expect(await stockOf(database.db, 22)).toBe(0);
  });

  it('does not deadlock when orders lock the same products in different line order', async () => {
    await setStock(database.db, 23, 100);
    await setStock(database.db, 24, 100);
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) =>
        placeOrder(requestDeps(database.db), userPrincipal(`crossed-${i}`), {
          items:
            i % 2 === 0
              ? [{ productId: 23, quantity: 1 }, { productId: 24, quantity: 1 }]
              : [{ productId: 24, quantity: 1 }, { productId: 23, quantity: 1 }],
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await stockOf(database.db, 23)).toBe(84);
    expect(await stockOf(database.db, 24)).toBe(84);
  });
});
