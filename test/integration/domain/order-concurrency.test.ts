import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import type { OrderStatus } from '../../../src/db/database-schema.js';
import { Scopes } from '../../../src/domain/granted-scopes.js';
import { cancelOrder, placeOrder, updateOrderStatus } from '../../../src/domain/orders/order-service.js';
import { canTransition } from '../../../src/domain/orders/order-status.js';
import { AppError } from '../../../src/errors.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
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

  it('sells scarce stock of several products to many users at once: never more than the stock, every accepted order whole, no row for a refused one', async () => {
    const stock = new Map([[25, 7], [26, 4], [27, 10]]);
    for (const [id, units] of stock) await setStock(database.db, id, units);
    // Each of 30 users wants two of the three products, one to three units each.
    const requests = Array.from({ length: 30 }, (_, u) => {
      const ids = [...stock.keys()].filter((_, k) => k !== u % 3);
      return { user: `scarce-${u}`, key: `scarce-key-${u}`, lines: ids.map((productId, k) => ({ productId, quantity: 1 + ((u + k) % 3) })) };
    });
    const results = await Promise.allSettled(
      requests.map((r) => placeOrder(requestDeps(database.db), userPrincipal(r.user), { items: r.lines, idempotencyKey: r.key })),
    );
    const unexpected = results.filter((r) => r.status === 'rejected' && !(r.reason instanceof AppError && ['INSUFFICIENT_STOCK', 'RETRY'].includes(String(r.reason.extensions['reason']))));
    expect(unexpected).toEqual([]);

    const orders = await database.db.selectFrom('orders').selectAll().where('idempotency_key', 'like', 'scarce-key-%').execute();
    const accepted = requests.filter((_, i) => results[i]!.status === 'fulfilled');
    expect(accepted.length).toBeGreaterThan(0);
    expect(orders.map((o) => o.idempotency_key).sort()).toEqual(accepted.map((r) => r.key).sort());
    const items = await database.db.selectFrom('order_items').selectAll().where('order_id', 'in', orders.map((o) => o.id)).execute();
    for (const order of orders) {
      const request = accepted.find((r) => r.key === order.idempotency_key)!;
      const own = items.filter((i) => i.order_id === order.id);
      expect(own.map((i) => [i.product_id, i.quantity]).sort()).toEqual(request.lines.map((l) => [l.productId, l.quantity]).sort());
      expect(order.total_minor).toBe(own.reduce((sum, i) => sum + i.unit_price_minor * i.quantity, 0));
    }
    for (const [id, units] of stock) {
      const sold = items.filter((i) => i.product_id === id).reduce((sum, i) => sum + i.quantity, 0);
      const left = await stockOf(database.db, id);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(sold + left).toBe(units);
    }
    // Too little of at least one product is left for every refused request.
    for (const request of requests.filter((_, i) => results[i]!.status === 'rejected')) {
      const short = await Promise.all(request.lines.map(async (l) => (await stockOf(database.db, l.productId)) < l.quantity));
      expect(short).toContain(true);
    }
  });

  it('places one order when a new user sends one idempotency key many times at once (the profile is created by the race too)', async () => {
    await setStock(database.db, 28, 100);
    const buyer = userPrincipal('first-time-double-clicker');
    const input = { items: [{ productId: 28, quantity: 3 }], idempotencyKey: 'first-checkout' };
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => placeOrder(requestDeps(database.db), buyer, input)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([]);
    const placed = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof placeOrder>>>).value);
    expect(new Set(placed.map((r) => r.order.id)).size).toBe(1);
    expect(placed.filter((r) => r.created)).toHaveLength(1);
    expect(await database.db.selectFrom('profiles').select('id').where('subject', '=', 'first-time-double-clicker').execute()).toHaveLength(1);
    expect(await stockOf(database.db, 28)).toBe(97);
  });

  describe('a customer cancelling while an admin moves the same order', () => {
    const owner = userPrincipal('racing-owner');
    const admin = clientPrincipal('racing-fulfilment', { scopes: [Scopes.adminOrders] });
    const PRODUCT = 29;
    const moves: Array<[OrderStatus, OrderStatus]> = [
      ['PENDING', 'PAID'],
      ['PENDING', 'CANCELLED'],
      ['PAID', 'SHIPPED'],
      ['PAID', 'CANCELLED'],
    ];

    it.each(moves)('from %s, admin to %s: one legal final state, stock back exactly once if cancelled', async (from, to) => {
      await setStock(database.db, PRODUCT, 1000);
      for (let round = 0; round < 6; round++) {
        const { order } = await placeOrder(requestDeps(database.db), owner, { items: [{ productId: PRODUCT, quantity: 5 }] });
        if (from === 'PAID') await updateOrderStatus(requestDeps(database.db), admin, order.id, 'PAID');
        const stock = await stockOf(database.db, PRODUCT);
        const [cancel, move] = await Promise.allSettled([
          cancelOrder(requestDeps(database.db), owner, order.id),
          updateOrderStatus(requestDeps(database.db), admin, order.id, to),
        ]);
        for (const r of [cancel, move]) {
          if (r.status === 'rejected') expect(['ILLEGAL_TRANSITION', 'CONCURRENT_UPDATE']).toContain((r.reason as AppError).extensions['reason']);
        }
        const { status } = await database.db.selectFrom('orders').select('status').where('id', '=', order.id).executeTakeFirstOrThrow();
        // Nothing leaves CANCELLED; a move that won may have been followed by the (still legal) cancel.
        if (cancel.status === 'fulfilled') expect(status).toBe('CANCELLED');
        if (move.status === 'fulfilled') expect(status === to || (status === 'CANCELLED' && canTransition(to, 'CANCELLED'))).toBe(true);
        expect(cancel.status === 'fulfilled' || move.status === 'fulfilled').toBe(true);
        expect(await stockOf(database.db, PRODUCT)).toBe(status === 'CANCELLED' ? stock + 5 : stock);
      }
    });
  });
});
