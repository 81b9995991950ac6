import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import type { OrderView } from '../../../src/domain/orders/order-repository.js';
import { getProduct } from '../../../src/domain/catalog/catalog-service.js';
import { getOrderItems, listOrders, listOrdersForProfile, placeOrder } from '../../../src/domain/orders/order-service.js';
import type { Connection } from '../../../src/domain/pagination.js';
import { getCallerProfile } from '../../../src/domain/profile/profile-service.js';
import type { RequestDeps } from '../../../src/domain/request-deps.js';
import { Scopes } from '../../../src/domain/granted-scopes.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
import { requestDeps, setStock } from '../../fixtures/domain.js';

const ORDER_COUNT = 50;

describe.each(databaseTargets())('loaders on $name', (target) => {
  let database: TestDatabase;
  const customer = userPrincipal('loader-customer', { name: 'Loader' });
  const admin = clientPrincipal('backoffice', { scopes: [Scopes.adminOrders] });

  beforeAll(async () => {
    database = await openTestDatabase(target);
    for (let id = 1; id <= 30; id++) await setStock(database.db, id, 1000);
    // 50 orders of 3 items each over 30 products, so items share products across orders.
    for (let n = 0; n < ORDER_COUNT; n++) {
      const productIds = [(n % 30) + 1, ((n + 7) % 30) + 1, ((n + 19) % 30) + 1];
      await placeOrder(requestDeps(database.db), customer, {
        items: productIds.map((productId, i) => ({ productId, quantity: i + 1 })),
      });
    }
  });
  afterAll(() => database.cleanup());

  it('loads products in key order with null for missing ids, in one statement', async () => {
    const deps = requestDeps(database.db);
    database.statements.reset();
    const rows = await Promise.all([3, 999_999, 1, 3, -1].map((id) => deps.loaders.productById.load(id)));
    expect(rows.map((r) => r?.id ?? null)).toEqual([3, null, 1, 3, null]);
    expect(database.statements.count).toBe(1);
    expect(database.statements.sql[0]).toMatch(/where "id" in/);
  });

  it('loads the items of several orders by position, and none for a missing order', async () => {
    const deps = requestDeps(database.db);
    database.statements.reset();
    const [a, missing, b] = await Promise.all([1, 999_999, 2].map((id) => deps.loaders.orderItemsByOrderId.load(id)));
    expect(database.statements.count).toBe(1);
    expect(missing).toEqual([]);
    // Placed with quantities 1, 2, 3 by position.
    expect(a?.map((i) => i.quantity)).toEqual([1, 2, 3]);
    expect(a?.every((i) => i.order_id === 1)).toBe(true);
    expect(b?.map((i) => i.quantity)).toEqual([1, 2, 3]);
  });

  it('loads orders and profiles in key order with null for missing ids', async () => {
    const deps = requestDeps(database.db);
    const profile = await getCallerProfile(deps, customer);
    database.statements.reset();
    const [orders, profiles] = await Promise.all([
      deps.loaders.orderById.loadMany([2, 999_999, 1]),
      deps.loaders.profileById.loadMany([999_999, profile.id]),
    ]);
    expect(orders.map((o) => (o && !(o instanceof Error) ? o.id : null))).toEqual([2, null, 1]);
    expect(profiles.map((p) => (p && !(p instanceof Error) ? p.id : null))).toEqual([null, profile.id]);
    // One statement per loader; the caller's profile was primed, so only the missing id is asked for.
    expect(database.statements.count).toBe(2);
    expect(database.statements.sql.find((s) => s.includes('"profiles"'))).toMatch(/in \(\$1\)|in \(\?\)/);
  });

  // What GraphQL does for `orders { edges { node { items { product { … } } } } }`: every
  // order's items in one tick, then every item's product in the next.
  async function resolveOrderPage(deps: RequestDeps, page: Connection<OrderView> | null) {
    return Promise.all(
      (page?.edges ?? []).map(async ({ node }) => {
        const items = await getOrderItems(deps, node);
        return Promise.all(items.map(async (item) => ({ ...item, product: await getProduct(deps, item.product_id) })));
      }),
    );
  }

  it.each([1, 20, ORDER_COUNT])(
    'loads a page of %d orders with their items and products in 3 statements',
    async (first) => {
      const deps = requestDeps(database.db);
      database.statements.reset();
      const page = await listOrders(deps, admin, { first });
      const resolved = await resolveOrderPage(deps, page);
      expect(resolved).toHaveLength(first);
      expect(resolved.flat()).toHaveLength(first * 3);
      expect(resolved.flat().every((item) => item.product?.id === item.product_id)).toBe(true);
      expect(database.statements.count).toBe(3);
    },
  );

  it.each([1, 20, ORDER_COUNT])(
    "loads the owner's page of %d orders through Profile.orders in 4 statements",
    async (first) => {
      const deps = requestDeps(database.db);
      const profileId = (await getCallerProfile(requestDeps(database.db), customer)).id;
      database.statements.reset();
      const page = await listOrdersForProfile(deps, customer, profileId, { first });
      const resolved = await resolveOrderPage(deps, page);
      expect(resolved.flat()).toHaveLength(first * 3);
      // caller profile, orders page, items, products
      expect(database.statements.count).toBe(4);
    },
  );

  it('reads only the columns resolvers use: no idempotency key, request fingerprint or update times', async () => {
    const keyed = userPrincipal('loader-keyed');
    const placed = await placeOrder(requestDeps(database.db), keyed, { items: [{ productId: 2, quantity: 1 }], idempotencyKey: 'loader-columns-key' });
    const deps = requestDeps(database.db);
    const profile = await getCallerProfile(deps, keyed);
    const page = await listOrdersForProfile(deps, keyed, profile.id, { first: 5 });
    const [order] = await requestDeps(database.db).loaders.orderById.loadMany([placed.order.id]);
    const [items] = await resolveOrderPage(deps, page);
    const [other] = await requestDeps(database.db).loaders.profileById.loadMany([profile.id]);
    expect(Object.keys(page?.edges[0]?.node ?? {}).sort()).toEqual(['currency', 'customer_id', 'id', 'placed_at', 'status', 'total_minor']);
    expect(Object.keys(order ?? {}).sort()).toEqual(['currency', 'customer_id', 'id', 'placed_at', 'status', 'total_minor']);
    expect(Object.keys(profile).sort()).toEqual(['created_at', 'display_name', 'email', 'id', 'issuer', 'subject']);
    expect(Object.keys(other ?? {}).sort()).toEqual(['created_at', 'display_name', 'email', 'id', 'issuer', 'subject']);
    const { product, ...item } = items![0]!;
    expect(Object.keys(item).sort()).toEqual(['currency', 'order_id', 'product_id', 'quantity', 'unit_price_minor']);
    expect(Object.keys(product ?? {}).sort()).toEqual(['currency', 'description', 'id', 'name', 'price_minor', 'stock']);
  });
});
