import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import {
  getOrder,
  getOrderCustomer,
  listOrders,
  listOrdersForProfile,
  placeOrder,
  updateOrderStatus,
} from '../../../src/domain/orders/order-service.js';
import { getCallerProfile } from '../../../src/domain/profile/profile-service.js';
import { Scopes } from '../../../src/domain/granted-scopes.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
import { rejection, requestDeps, setStock, testCursors } from '../../fixtures/domain.js';

describe.each(databaseTargets())('order access on $name', (target) => {
  let database: TestDatabase;
  const alice = userPrincipal('alice', { name: 'Alice', scopes: [Scopes.readOrders] });
  const bob = userPrincipal('bob', { name: 'Bob', scopes: [Scopes.readOrders] });
  const supportUser = userPrincipal('support', { scopes: [Scopes.adminOrders] });
  const adminClient = clientPrincipal('backoffice', { scopes: [Scopes.adminOrders] });
  const plainClient = clientPrincipal('alice', { scopes: [Scopes.readOrders] });
  // Alice's orders are ids 1–3 (oldest first), Bob's are 4–5; order 2 is PAID.
  let aliceOrders: number[];
  let bobOrders: number[];
  let aliceProfileId: number;

  beforeAll(async () => {
    database = await openTestDatabase(target);
    await setStock(database.db, 1, 100);
    const place = async (principal: Principal & { kind: 'user' }) =>
      (await placeOrder(requestDeps(database.db), principal, { items: [{ productId: 1, quantity: 1 }] })).order.id;
    aliceOrders = [await place(alice), await place(alice), await place(alice)];
    bobOrders = [await place(bob), await place(bob)];
    await updateOrderStatus(requestDeps(database.db), adminClient, aliceOrders[1]!, 'PAID');
    aliceProfileId = (await getCallerProfile(requestDeps(database.db), alice)).id;
  });
  afterAll(() => database.cleanup());

  const ids = (connection: { edges: { node: { id: number } }[] } | null) => connection?.edges.map((e) => e.node.id);

  describe('getOrder', () => {
    it('shows the owner their order', async () => {
      await expect(getOrder(requestDeps(database.db), alice, aliceOrders[0]!)).resolves.toMatchObject({
        id: aliceOrders[0],
        customer_id: aliceProfileId,
      });
    });

    it("hides another user's order exactly like a missing one", async () => {
      await expect(getOrder(requestDeps(database.db), bob, aliceOrders[0]!)).resolves.toBeNull();
      await expect(getOrder(requestDeps(database.db), bob, 999_999)).resolves.toBeNull();
    });

    it('shows any order to admin:orders, user or client', async () => {
      await expect(getOrder(requestDeps(database.db), supportUser, bobOrders[0]!)).resolves.toMatchObject({ id: bobOrders[0] });
      await expect(getOrder(requestDeps(database.db), adminClient, aliceOrders[2]!)).resolves.toMatchObject({
        id: aliceOrders[2],
      });
    });

    it('shows nothing to a client without admin:orders, even one whose id equals a user subject', async () => {
      await expect(getOrder(requestDeps(database.db), plainClient, aliceOrders[0]!)).resolves.toBeNull();
    });

    it('shows nothing to an anonymous caller', async () => {
      await expect(getOrder(requestDeps(database.db), ANONYMOUS, aliceOrders[0]!)).resolves.toBeNull();
    });
  });

  describe('getOrderCustomer', () => {
    it("shows the order's profile to its owner and to admins only", async () => {
      const order = (await getOrder(requestDeps(database.db), alice, aliceOrders[0]!))!;
      await expect(getOrderCustomer(requestDeps(database.db), alice, order)).resolves.toMatchObject({ display_name: 'Alice' });
      await expect(getOrderCustomer(requestDeps(database.db), adminClient, order)).resolves.toMatchObject({ id: aliceProfileId });
      await expect(getOrderCustomer(requestDeps(database.db), bob, order)).resolves.toBeNull();
    });
  });

  describe('listOrders (admin)', () => {
    it('lists every order newest first', async () => {
      const page = await listOrders(requestDeps(database.db), adminClient, {});
      expect(ids(page)).toEqual([...aliceOrders, ...bobOrders].reverse());
      expect(page.pageInfo.hasNextPage).toBe(false);
    });

    it('pages with cursors', async () => {
      const first = await listOrders(requestDeps(database.db), supportUser, { first: 2 });
      expect(ids(first)).toEqual([bobOrders[1], bobOrders[0]]);
      expect(first.pageInfo.hasNextPage).toBe(true);
      expect(testCursors.decode('after', first.pageInfo.endCursor)).toBe(bobOrders[0]);
      const second = await listOrders(requestDeps(database.db), supportUser, { first: 2, after: first.pageInfo.endCursor });
      expect(ids(second)).toEqual([aliceOrders[2], aliceOrders[1]]);
      const third = await listOrders(requestDeps(database.db), supportUser, { first: 2, after: second.pageInfo.endCursor });
      expect(ids(third)).toEqual([aliceOrders[0]]);
      expect(third.pageInfo.hasNextPage).toBe(false);
    });

    it('filters by status and by customer', async () => {
      expect(ids(await listOrders(requestDeps(database.db), adminClient, { status: 'PAID' }))).toEqual([aliceOrders[1]]);
      expect(ids(await listOrders(requestDeps(database.db), adminClient, { customerId: aliceProfileId }))).toEqual(
        [...aliceOrders].reverse(),
      );
      expect(
        ids(await listOrders(requestDeps(database.db), adminClient, { customerId: aliceProfileId, status: 'PENDING' })),
      ).toEqual([aliceOrders[2], aliceOrders[0]]);
    });

    it('finds nothing for a customer id that cannot exist', async () => {
      const page = await listOrders(requestDeps(database.db), adminClient, { customerId: 2 ** 40 });
      expect(page.edges).toEqual([]);
    });

    it('rejects a bad cursor naming after', async () => {
      expect(await rejection(listOrders(requestDeps(database.db), adminClient, { after: 'xyz' }))).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'after' },
      });
    });

    it('refuses a principal without admin:orders', async () => {
      expect(await rejection(listOrders(requestDeps(database.db), alice, {}))).toMatchObject({
        extensions: { code: 'FORBIDDEN' },
      });
    });
  });

  describe('listOrdersForProfile', () => {
    it("lists the owner's orders newest first, filtered by status", async () => {
      expect(ids(await listOrdersForProfile(requestDeps(database.db), alice, aliceProfileId, {}))).toEqual(
        [...aliceOrders].reverse(),
      );
      expect(ids(await listOrdersForProfile(requestDeps(database.db), alice, aliceProfileId, { status: 'PAID' }))).toEqual([
        aliceOrders[1],
      ]);
    });

    it("lets admins list anyone's orders", async () => {
      expect(ids(await listOrdersForProfile(requestDeps(database.db), adminClient, aliceProfileId, { first: 1 }))).toEqual([
        aliceOrders[2],
      ]);
    });

    it('returns null to other users, plain clients and anonymous callers', async () => {
      await expect(listOrdersForProfile(requestDeps(database.db), bob, aliceProfileId, {})).resolves.toBeNull();
      await expect(listOrdersForProfile(requestDeps(database.db), plainClient, aliceProfileId, {})).resolves.toBeNull();
      await expect(listOrdersForProfile(requestDeps(database.db), ANONYMOUS, aliceProfileId, {})).resolves.toBeNull();
    });
  });
});
