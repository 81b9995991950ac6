import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

import { cancelOrder, placeOrder } from '../../../src/domain/orders/order-service.js';
import { AppError, ErrorCode } from '../../../src/errors.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';
import { countRows, rejection, requestDeps, setStock, stockOf } from '../../fixtures/domain.js';

const CLIENTS = 4;
const ORDERS_PER_CLIENT = 25;
// Products 1..8: every order takes three neighbouring ones, so orders overlap on some
// products and not on others, and each transaction locks its first product before the rest.
const PRODUCTS = [1, 2, 3, 4, 5, 6, 7, 8];
const INITIAL_STOCK = 100;

function linesOf(client: number, n: number) {
  const first = (client * 3 + n) % PRODUCTS.length;
  return [0, 1, 2].map((k) => ({
    productId: PRODUCTS[(first + k) % PRODUCTS.length] as number,
    quantity: 1 + ((client + n + k) % 3),
  }));
}

/**
 * Fails the first `times` inserts into `table` with a driver error of SQLSTATE `code`, as the
 * database does to the loser of a deadlock (the statement fails and the transaction is rolled back).
 */
function failingInserts(table: string, code: string, times: number): KyselyPlugin & { readonly failed: () => number } {
  let failed = 0;
  return {
    failed: () => failed,
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      if (args.node.kind === 'InsertQueryNode' && args.node.into?.table.identifier.name === table && failed < times) {
        failed += 1;
        throw Object.assign(new Error('deadlock detected'), { code });
      }
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result;
    },
  };
}

// Ordinary contention: several customers ordering overlapping products at once, as in a sale.
describe.each(databaseTargets())('placeOrder under contention on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target, { poolSize: 10 });
    for (const id of PRODUCTS) await setStock(database.db, id, INITIAL_STOCK);
  });
  afterAll(() => database.cleanup());

  it('places or refuses with a domain error every one of many concurrent overlapping orders, and keeps stock consistent', async () => {
    const outcomes: { client: number; n: number; result: 'placed' | AppError; orderId?: number }[] = [];
    const client = async (c: number) => {
      const principal = userPrincipal(`contender-${c}`);
      for (let n = 0; n < ORDERS_PER_CLIENT; n++) {
        try {
          const input = { items: linesOf(c, n), idempotencyKey: `contention-${c}-${n}` };
          const { order, created } = await placeOrder(requestDeps(database.db), principal, input);
          expect(created).toBe(true);
          outcomes.push({ client: c, n, result: 'placed', orderId: order.id });
        } catch (error) {
          // Anything that is not a coded domain error reaches the client as INTERNAL_SERVER_ERROR.
          if (!(error instanceof AppError)) throw error;
          outcomes.push({ client: c, n, result: error });
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    expect(settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason)).toEqual([]);
    for (const { result } of outcomes) {
      if (result !== 'placed') {
        expect(result.code).toBe(ErrorCode.CONFLICT);
        expect(['INSUFFICIENT_STOCK', 'RETRY']).toContain(result.extensions['reason']);
      }
    }
    expect(outcomes).toHaveLength(CLIENTS * ORDERS_PER_CLIENT);
    const placed = outcomes.filter((o) => o.result === 'placed');
    expect(placed.length).toBeGreaterThan(0);

    // One order per placed request, none for a refused one (idempotency keys are unique per request).
    const orders = await database.db.selectFrom('orders').selectAll().where('idempotency_key', 'like', 'contention-%').execute();
    expect(orders).toHaveLength(placed.length);
    expect(new Set(orders.map((o) => o.id))).toEqual(new Set(placed.map((o) => o.orderId)));

    // Every unit is either in stock or in an order; stock never went below zero.
    const items = await database.db
      .selectFrom('order_items')
      .selectAll()
      .where('order_id', 'in', orders.map((o) => o.id))
      .execute();
    const products = await database.db.selectFrom('products').select(['id', 'stock', 'price_minor']).where('id', 'in', PRODUCTS).execute();
    for (const product of products) {
      const sold = items.filter((i) => i.product_id === product.id).reduce((sum, i) => sum + i.quantity, 0);
      expect(product.stock).toBeGreaterThanOrEqual(0);
      expect(sold).toBeLessThanOrEqual(INITIAL_STOCK);
      expect(product.stock + sold).toBe(INITIAL_STOCK);
    }
    for (const order of orders) {
      const own = items.filter((i) => i.order_id === order.id);
      expect(own).toHaveLength(3);
      expect(order.total_minor).toBe(own.reduce((sum, i) => sum + i.unit_price_minor * i.quantity, 0));
    }
  });
  it('runs an order whose transaction lost a deadlock again, and places it exactly once', async () => {
    await setStock(database.db, 9, 50);
    const ordersBefore = await countRows(database.db, 'orders');
    // The loser of a deadlock has already taken stock and inserted its order when it is told.
    const deadlock = failingInserts('order_items', '40P01', 2);
    const { order, created } = await placeOrder(requestDeps(database.db.withPlugin(deadlock)), userPrincipal('twice-unlucky'), {
      items: [{ productId: 9, quantity: 3 }],
      idempotencyKey: 'retried-order',
    });
    expect(deadlock.failed()).toBe(2);
    expect(created).toBe(true);
    expect(await countRows(database.db, 'orders')).toBe(ordersBefore + 1);
    expect(await database.db.selectFrom('orders').select('id').where('idempotency_key', '=', 'retried-order').execute()).toEqual([{ id: order.id }]);
    expect(await stockOf(database.db, 9)).toBe(47);
  });

  it('answers CONFLICT with reason RETRY, writing nothing, when every run loses', async () => {
    await setStock(database.db, 10, 50);
    const ordersBefore = await countRows(database.db, 'orders');
    const serialization = failingInserts('order_items', '40001', Number.POSITIVE_INFINITY);
    const error = await rejection(
      placeOrder(requestDeps(database.db.withPlugin(serialization)), userPrincipal('always-unlucky'), { items: [{ productId: 10, quantity: 1 }] }),
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).extensions).toMatchObject({ code: 'CONFLICT', reason: 'RETRY', retryable: true });
    expect(serialization.failed()).toBe(5);
    expect(await countRows(database.db, 'orders')).toBe(ordersBefore);
    expect(await stockOf(database.db, 10)).toBe(50);
  });

  it('cancels and places overlapping orders at once without an internal error, every unit accounted for', async () => {
    const products = [11, 12, 14, 16];
    for (const id of products) await setStock(database.db, id, 1000);
    const buyer = userPrincipal('canceller');
    const lines = (n: number) => [0, 1, 2].map((k) => ({ productId: products[(n + k) % products.length] as number, quantity: 1 + ((n + k) % 2) }));
    const existing = [];
    for (let n = 0; n < 40; n++) existing.push((await placeOrder(requestDeps(database.db), buyer, { items: lines(n) })).order.id);
    const settled = await Promise.allSettled([
      ...existing.map((id) => cancelOrder(requestDeps(database.db), buyer, id)),
      ...Array.from({ length: 40 }, (_, n) => placeOrder(requestDeps(database.db), userPrincipal(`while-cancelling-${n % 4}`), { items: lines(n + 1) })),
    ]);
    const unexpected = settled.filter((s) => s.status === 'rejected' && !(s.reason instanceof AppError && s.reason.extensions['reason'] === 'RETRY'));
    expect(unexpected).toEqual([]);

    const open = await database.db
      .selectFrom('order_items')
      .innerJoin('orders', 'orders.id', 'order_items.order_id')
      .select(['order_items.product_id', 'order_items.quantity'])
      .where('orders.status', '!=', 'CANCELLED')
      .where('order_items.product_id', 'in', products)
      .execute();
    for (const id of products) {
      const held = open.filter((i) => i.product_id === id).reduce((sum, i) => sum + i.quantity, 0);
      expect((await stockOf(database.db, id)) + held).toBe(1000);
    }
  });
});
