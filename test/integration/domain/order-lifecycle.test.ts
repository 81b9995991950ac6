import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import type { OrderStatus } from '../../../src/db/database-schema.js';
import { cancelOrder, placeOrder, updateOrderStatus } from '../../../src/domain/orders/order-service.js';
import { ORDER_STATUSES } from '../../../src/domain/orders/order-status.js';
import { Scopes } from '../../../src/domain/granted-scopes.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
import { rejection, requestDeps, setStock, stockOf, testCursors } from '../../fixtures/domain.js';
import type { ChangeFeed } from '../../../src/db/change-feed.js';
import { createRequestDeps } from '../../../src/domain/request-deps.js';

const LEGAL = new Set(['PENDING>PAID', 'PAID>SHIPPED', 'SHIPPED>DELIVERED', 'PENDING>CANCELLED', 'PAID>CANCELLED']);
// The shortest legal path from PENDING to each status, used to set orders up.
const PATH: Record<OrderStatus, OrderStatus[]> = {
  PENDING: [],
  PAID: ['PAID'],
  SHIPPED: ['PAID', 'SHIPPED'],
  DELIVERED: ['PAID', 'SHIPPED', 'DELIVERED'],
  CANCELLED: ['CANCELLED'],
};
const PRODUCT = 12;

describe.each(databaseTargets())('order lifecycle on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
    await setStock(database.db, PRODUCT, 10_000);
  });
  afterAll(() => database.cleanup());

  const owner = userPrincipal('owner', { name: 'Owner' });
  const admin = clientPrincipal('fulfilment', { scopes: [Scopes.adminOrders] });

  async function orderIn(status: OrderStatus, quantity = 3) {
    const { order } = await placeOrder(requestDeps(database.db), owner, { items: [{ productId: PRODUCT, quantity }] });
    for (const step of PATH[status]) await updateOrderStatus(requestDeps(database.db), admin, order.id, step);
    return order.id;
  }
  const statusOf = async (orderId: number) =>
    (await database.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status;

  describe('cancelOrder', () => {
    it.each(['PENDING', 'PAID'] as const)('cancels a %s order and puts its stock back', async (status) => {
      const orderId = await orderIn(status, 4);
      const stock = await stockOf(database.db, PRODUCT);
      const cancelled = await cancelOrder(requestDeps(database.db), owner, orderId);
      expect(cancelled).toMatchObject({ id: orderId, status: 'CANCELLED' });
      expect(await stockOf(database.db, PRODUCT)).toBe(stock + 4);
    });

    it('publishes the status the order had when it was cancelled, even when it changed after the cancel read it', async () => {
      const orderId = await orderIn('PENDING');
      const published: object[] = [];
      const changes: ChangeFeed = {
        kind: 'local',
        transaction: (db, work) => db.transaction().execute((trx) => work(trx, async (message) => void published.push(message))),
        listen: () => () => undefined,
        onInterrupted: () => () => undefined,
        delivering: () => true,
        ready: async () => undefined,
        close: async () => undefined,
      };
      const deps = createRequestDeps(database.db, { cursors: testCursors, changes });
      // The cancel's request read the order while it was PENDING; an admin then marks it PAID.
      expect(await deps.loaders.orderById.load(orderId)).toMatchObject({ status: 'PENDING' });
      await updateOrderStatus(requestDeps(database.db), admin, orderId, 'PAID');
      expect(await cancelOrder(deps, owner, orderId)).toMatchObject({ id: orderId, status: 'CANCELLED' });
      const orderChanges = published.filter((m): m is { kind: 'order'; previousStatus: string; order: { status: string } } => (m as { kind?: string }).kind === 'order');
      expect(orderChanges.map((c) => [c.previousStatus, c.order.status])).toEqual([['PAID', 'CANCELLED']]);
    });

    it.each(['SHIPPED', 'DELIVERED', 'CANCELLED'] as const)(
      'refuses to cancel a %s order as ILLEGAL_TRANSITION and keeps the stock',
      async (status) => {
        const orderId = await orderIn(status);
        const stock = await stockOf(database.db, PRODUCT);
        expect(await rejection(cancelOrder(requestDeps(database.db), owner, orderId))).toMatchObject({
          extensions: { code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION', from: status, to: 'CANCELLED' },
        });
        expect(await statusOf(orderId)).toBe(status);
        expect(await stockOf(database.db, PRODUCT)).toBe(stock);
      },
    );

    it("answers another user's order exactly like a missing one", async () => {
      const orderId = await orderIn('PENDING');
      const theirs = await rejection(cancelOrder(requestDeps(database.db), userPrincipal('intruder'), orderId));
      const missing = await rejection(cancelOrder(requestDeps(database.db), userPrincipal('intruder'), 999_999));
      expect(theirs).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      expect(missing).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      expect((theirs as Error).message).toBe((missing as Error).message);
      expect(await statusOf(orderId)).toBe('PENDING');
    });

    it('does not let an admin user cancel for the customer', async () => {
      const orderId = await orderIn('PENDING');
      const support = userPrincipal('support', { scopes: [Scopes.adminOrders] });
      expect(await rejection(cancelOrder(requestDeps(database.db), support, orderId))).toMatchObject({
        extensions: { code: 'NOT_FOUND' },
      });
    });

    it('restores stock once when two cancels race', async () => {
      const orderId = await orderIn('PENDING', 5);
      const stock = await stockOf(database.db, PRODUCT);
      const results = await Promise.allSettled([
        cancelOrder(requestDeps(database.db), owner, orderId),
        cancelOrder(requestDeps(database.db), owner, orderId),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected');
      expect(failed?.reason).toMatchObject({ extensions: { reason: 'ILLEGAL_TRANSITION' } });
      expect(await stockOf(database.db, PRODUCT)).toBe(stock + 5);
    });
  });

  describe('updateOrderStatus', () => {
    const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

    it.each(pairs.filter(([from, to]) => LEGAL.has(`${from}>${to}`)))('moves %s → %s', async (from, to) => {
      const orderId = await orderIn(from, 2);
      const stock = await stockOf(database.db, PRODUCT);
      const updated = await updateOrderStatus(requestDeps(database.db), admin, orderId, to);
      expect(updated).toMatchObject({ id: orderId, status: to });
      expect(await statusOf(orderId)).toBe(to);
      expect(await stockOf(database.db, PRODUCT)).toBe(to === 'CANCELLED' ? stock + 2 : stock);
    });

    it.each(pairs.filter(([from, to]) => !LEGAL.has(`${from}>${to}`)))(
      'refuses %s → %s as ILLEGAL_TRANSITION',
      async (from, to) => {
        const orderId = await orderIn(from, 2);
        const stock = await stockOf(database.db, PRODUCT);
        expect(await rejection(updateOrderStatus(requestDeps(database.db), admin, orderId, to))).toMatchObject({
          extensions: { code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION', from, to },
        });
        expect(await statusOf(orderId)).toBe(from);
        expect(await stockOf(database.db, PRODUCT)).toBe(stock);
      },
    );

    it('answers a missing order with NOT_FOUND', async () => {
      expect(await rejection(updateOrderStatus(requestDeps(database.db), admin, 999_999, 'PAID'))).toMatchObject({
        extensions: { code: 'NOT_FOUND' },
      });
    });

    it('refuses a principal without admin:orders', async () => {
      const orderId = await orderIn('PENDING');
      expect(await rejection(updateOrderStatus(requestDeps(database.db), owner, orderId, 'PAID'))).toMatchObject({
        extensions: { code: 'FORBIDDEN', reason: 'INSUFFICIENT_SCOPE' },
      });
      expect(await statusOf(orderId)).toBe('PENDING');
    });

    it('lets only one of two concurrent identical moves win', async () => {
      const orderId = await orderIn('PENDING', 2);
      const results = await Promise.allSettled([
        updateOrderStatus(requestDeps(database.db), admin, orderId, 'PAID'),
        updateOrderStatus(requestDeps(database.db), admin, orderId, 'PAID'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.reason).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION', from: 'PAID' } });
    });

    it('refuses a move based on a stale status as CONCURRENT_UPDATE', async () => {
      const orderId = await orderIn('PENDING', 2);
      const stale = requestDeps(database.db);
      await stale.loaders.orderById.load(orderId);
      await updateOrderStatus(requestDeps(database.db), admin, orderId, 'PAID');
      const stock = await stockOf(database.db, PRODUCT);
      // PAID → CANCELLED is legal, but this request decided on PENDING, which no longer holds.
      expect(await rejection(updateOrderStatus(stale, admin, orderId, 'CANCELLED'))).toMatchObject({
        extensions: { code: 'CONFLICT', reason: 'CONCURRENT_UPDATE', from: 'PAID', to: 'CANCELLED' },
      });
      expect(await statusOf(orderId)).toBe('PAID');
      expect(await stockOf(database.db, PRODUCT)).toBe(stock);
    });

    it('keeps stock consistent when a payment and a cancellation race', async () => {
      const orderId = await orderIn('PENDING', 2);
      const stock = await stockOf(database.db, PRODUCT);
      await Promise.allSettled([
        updateOrderStatus(requestDeps(database.db), admin, orderId, 'PAID'),
        updateOrderStatus(requestDeps(database.db), admin, orderId, 'CANCELLED'),
      ]);
      // Either one move won, or they ran one after the other (PENDING → PAID → CANCELLED).
      const final = await statusOf(orderId);
      expect(['PAID', 'CANCELLED']).toContain(final);
      expect(await stockOf(database.db, PRODUCT)).toBe(final === 'CANCELLED' ? stock + 2 : stock);
    });
  });
});
