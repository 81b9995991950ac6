import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { placeOrder } from '../../../src/domain/orders/order-service.js';
import { getCallerProfile } from '../../../src/domain/profile/profile-service.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';
import { rejection, requestDeps, setStock, snapshot, stockOf } from '../../fixtures/domain.js';

// Seeded prices (US cents): 1 Enamel Camp Mug 1499, 2 Pour-Over Coffee Dripper 2400,
// 3 Gooseneck Kettle 5900, 28 Noise-Cancelling Headphones 24900.
describe.each(databaseTargets())('placeOrder on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  const place = (subject: string, input: Parameters<typeof placeOrder>[2]) =>
    placeOrder(requestDeps(database.db), userPrincipal(subject, { name: subject }), input);
  const itemsOf = (orderId: number) =>
    database.db.selectFrom('order_items').selectAll().where('order_id', '=', orderId).orderBy('position').execute();

  it('prices the order from the catalog and totals it exactly', async () => {
    await setStock(database.db, 1, 50);
    await setStock(database.db, 2, 50);
    const { order, created } = await place('buyer', { items: [{ productId: 2, quantity: 1 }, { productId: 1, quantity: 3 }] });

    expect(created).toBe(true);
    expect(order).toMatchObject({ status: 'PENDING', currency: 'USD', total_minor: 3 * 1499 + 2400, idempotency_key: null });
    expect(order.placed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const customer = await getCallerProfile(requestDeps(database.db), userPrincipal('buyer'));
    expect(order.customer_id).toBe(customer.id);
    expect(await itemsOf(order.id)).toMatchObject([
      { product_id: 2, quantity: 1, unit_price_minor: 2400, currency: 'USD', position: 0 },
      { product_id: 1, quantity: 3, unit_price_minor: 1499, currency: 'USD', position: 1 },
    ]);
  });

  it('takes the ordered units out of stock', async () => {
    await setStock(database.db, 3, 10);
    await place('stock-taker', { items: [{ productId: 3, quantity: 4 }] });
    expect(await stockOf(database.db, 3)).toBe(6);
  });

  it('keeps totals exact for large orders', async () => {
    await setStock(database.db, 28, 100);
    const { order } = await place('big-spender', { items: [{ productId: 28, quantity: 100 }] });
    expect(order.total_minor).toBe(2_490_000);
  });

  it('merges lines for the same product', async () => {
    await setStock(database.db, 1, 50);
    const { order } = await place('merger', {
      items: [{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }, { productId: 1, quantity: 3 }],
    });
    expect(await itemsOf(order.id)).toMatchObject([
      { product_id: 1, quantity: 5, position: 0 },
      { product_id: 2, quantity: 1, position: 1 },
    ]);
    expect(order.total_minor).toBe(5 * 1499 + 2400);
  });

  it('ignores price changes made after the order was placed', async () => {
    await setStock(database.db, 4, 5);
    const { order } = await place('early-bird', { items: [{ productId: 4, quantity: 1 }] });
    await database.db.updateTable('products').set({ price_minor: 1 }).where('id', '=', 4).execute();
    expect((await itemsOf(order.id))[0]?.unit_price_minor).toBe(8900);
  });

  it('refuses too little stock as INSUFFICIENT_STOCK and writes nothing', async () => {
    await setStock(database.db, 1, 20);
    await setStock(database.db, 5, 1);
    const before = await snapshot(database.db);
    const error = await rejection(
      place('buyer', { items: [{ productId: 1, quantity: 2 }, { productId: 5, quantity: 2 }] }),
    );
    expect(error).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK', field: 'input.items[1].quantity' } });
    expect(await snapshot(database.db)).toEqual(before);
  });

  it('refuses an out-of-stock product', async () => {
    await setStock(database.db, 15, 0);
    expect(await rejection(place('buyer', { items: [{ productId: 15, quantity: 1 }] }))).toMatchObject({
      extensions: { reason: 'INSUFFICIENT_STOCK', field: 'input.items[0].quantity' },
    });
  });

  it('refuses an unknown product naming its line, and writes nothing', async () => {
    const before = await snapshot(database.db);
    const error = await rejection(
      place('buyer', { items: [{ productId: 1, quantity: 1 }, { productId: 999_999, quantity: 1 }] }),
    );
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.items[1].productId' } });
    expect(await snapshot(database.db)).toEqual(before);
  });

  it.each([
    ['no items', [], 'input.items'],
    ['51 items', Array.from({ length: 51 }, (_, i) => ({ productId: i + 1, quantity: 1 })), 'input.items'],
    ['quantity 0', [{ productId: 1, quantity: 0 }], 'input.items[0].quantity'],
    ['quantity 101', [{ productId: 2, quantity: 1 }, { productId: 1, quantity: 101 }], 'input.items[1].quantity'],
  ])('refuses %s naming %s, and writes nothing', async (_, items, field) => {
    const before = await snapshot(database.db);
    expect(await rejection(place('limit-tester', { items }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field },
    });
    expect(await snapshot(database.db)).toEqual(before);
  });

  it('accepts 50 items', async () => {
    for (let id = 1; id <= 50; id++) await setStock(database.db, id, 10);
    const { order } = await place('fifty', { items: Array.from({ length: 50 }, (_, i) => ({ productId: i + 1, quantity: 1 })) });
    expect(await itemsOf(order.id)).toHaveLength(50);
  });

  describe('idempotency', () => {
    it('returns the original order for a repeated key and leaves stock alone', async () => {
      await setStock(database.db, 6, 10);
      const input = { items: [{ productId: 6, quantity: 2 }], idempotencyKey: 'checkout-1' };
      const first = await place('retrier', input);
      const before = await snapshot(database.db);
      const second = await place('retrier', input);

      expect(first.created).toBe(true);
      expect(second).toEqual({ order: first.order, created: false });
      expect(await snapshot(database.db)).toEqual(before);
      expect(await stockOf(database.db, 6)).toBe(8);
    });

    it('treats the same items in another order or split into lines as the same request', async () => {
      await setStock(database.db, 7, 10);
      await setStock(database.db, 8, 10);
      const first = await place('reorderer', {
        items: [{ productId: 7, quantity: 2 }, { productId: 8, quantity: 1 }],
        idempotencyKey: 'k',
      });
      const second = await place('reorderer', {
        items: [{ productId: 8, quantity: 1 }, { productId: 7, quantity: 1 }, { productId: 7, quantity: 1 }],
        idempotencyKey: 'k',
      });
      expect(second).toEqual({ order: first.order, created: false });
    });

    it('replays the original even after the stock ran out', async () => {
      await setStock(database.db, 9, 1);
      const input = { items: [{ productId: 9, quantity: 1 }], idempotencyKey: 'last-one' };
      const first = await place('lucky', input);
      await expect(place('lucky', input)).resolves.toEqual({ order: first.order, created: false });
    });

    it('refuses a key reused with different items as IDEMPOTENCY_KEY_REUSED', async () => {
      await setStock(database.db, 10, 10);
      await place('reuser', { items: [{ productId: 10, quantity: 1 }], idempotencyKey: 'checkout-2' });
      const before = await snapshot(database.db);
      expect(
        await rejection(place('reuser', { items: [{ productId: 10, quantity: 2 }], idempotencyKey: 'checkout-2' })),
      ).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_REUSED' } });
      expect(await snapshot(database.db)).toEqual(before);
    });

    it('scopes keys to the customer', async () => {
      await setStock(database.db, 11, 10);
      const input = { items: [{ productId: 11, quantity: 1 }], idempotencyKey: 'shared-key' };
      const a = await place('customer-a', input);
      const b = await place('customer-b', input);
      expect(b.created).toBe(true);
      expect(b.order.id).not.toBe(a.order.id);
    });
  });
});
