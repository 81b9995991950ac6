import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ANONYMOUS } from '../../../src/auth/principal.js';
import { toGlobalId } from '../../../src/graphql/global-id.js';
import { type TestApi, createTestApi } from '../../fixtures/api.js';
import { type TestDatabase, databaseTargets, openTestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';

const ALL = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders'];
const alice = userPrincipal('alice', { scopes: ALL, name: 'Alice' });
const bob = userPrincipal('bob', { scopes: ALL, name: 'Bob' });
const admin = clientPrincipal('backoffice', { scopes: ['admin:orders', 'read:orders', 'read:profile'] });

const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId order { id status total { amount currency } items { quantity unitPrice { amount } product { id name } } } } }`;

describe.each(databaseTargets())('GraphQL API on $name', (target) => {
  let database: TestDatabase;
  let api: TestApi;
  let aliceOrderId: string;
  const product1 = toGlobalId('Product', 1);
  const product2 = toGlobalId('Product', 2);

  beforeAll(async () => {
    database = await openTestDatabase(target);
    api = await createTestApi(database);
    const placed = await api.run(PLACE, { principal: alice, variables: { input: { items: [{ productId: product1, quantity: 2 }, { productId: product2, quantity: 1 }] } } });
    expect(placed.errors).toBeUndefined();
    aliceOrderId = (placed.data?.['placeOrder'] as { orderId: string }).orderId;
  });
  afterAll(async () => {
    await api?.stop();
    await database?.cleanup();
  });

  const stockOf = async (id: number) => (await database.db.selectFrom('products').select('stock').where('id', '=', id).executeTakeFirstOrThrow()).stock;
  const orderCount = async () => Number((await database.db.selectFrom('orders').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('public catalog', () => {
    it('lists products to anonymous callers with exact decimal prices', async () => {
      const r = await api.run('{ products(first: 3) { edges { cursor node { id name price { amount currency } inStock } } pageInfo { hasNextPage endCursor } } }');
      expect(r.status).toBe(200);
      const conn = r.data?.['products'] as { edges: Array<{ node: { price: { amount: string } } }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
      expect(conn.edges).toHaveLength(3);
      expect(conn.pageInfo.hasNextPage).toBe(true);
      for (const e of conn.edges) expect(e.node.price.amount).toMatch(/^\d+\.\d{2}$/);
      const next = await api.run('query ($after: String) { products(first: 3, after: $after) { edges { node { id } } } }', { variables: { after: conn.pageInfo.endCursor } });
      expect((next.data?.['products'] as { edges: unknown[] }).edges).toHaveLength(3);
    });

    it('caps first at 100 and refuses a forged cursor with BAD_USER_INPUT', async () => {
      const r = await api.run('{ products(first: 1000) { edges { node { id } } } }');
      expect((r.data?.['products'] as { edges: unknown[] }).edges.length).toBeLessThanOrEqual(100);
      const bad = await api.run('{ products(after: "not-a-cursor") { edges { node { id } } } }');
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });

    it('reads one product by its global ID, and rejects a malformed one', async () => {
      const r = await api.run(`{ product(id: "${product1}") { id name } }`);
      expect(r.data?.['product']).toMatchObject({ id: product1 });
      const bad = await api.run('{ product(id: "42") { id } }');
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    });

    it('shows a product change made behind its back on the very next request (shared product rows)', async () => {
      const read = async () => (await api.run(`{ product(id: "${product1}") { price { amount } inStock } }`)).data?.['product'];
      await read();
      await read(); // now served from the shared rows
      await database.db.updateTable('products').set({ price_minor: 123_45, stock: 0 }).where('id', '=', 1).execute();
      await expect(read()).resolves.toEqual({ price: { amount: '123.45' }, inStock: false });
      await database.db.updateTable('products').set({ stock: 10 }).where('id', '=', 1).execute();
      await expect(read()).resolves.toMatchObject({ inStock: true });
    });
  });

  describe('request-level outcomes (RFC 6750)', () => {
    it('answers 401 with a bare Bearer challenge when no token and every root field needs one', async () => {
      database.statements.reset();
      const r = await api.run('{ me { id } }');
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", resource_metadata="[^"]+"$/);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', requiredScopes: ['read:profile'] });
      expect(database.statements.count).toBe(0);
    });

    it('answers 403 insufficient_scope naming the scopes that satisfy the whole request', async () => {
      const r = await api.run('{ me { id email } }', { principal: userPrincipal('carol', { scopes: ['read:orders'] }) });
      expect(r.status).toBe(403);
      const challenge = r.headers.get('www-authenticate') ?? '';
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain('scope="read:email read:profile"');
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['read:profile'], missingScopes: ['read:profile'] });
    });

    it('answers 200 with null and FORBIDDEN for denied fields when part of the request is allowed', async () => {
      const r = await api.run('{ me { displayName email } products(first: 1) { edges { node { id } } } }', { principal: userPrincipal('dave', { scopes: ['read:profile'], name: 'Dave' }) });
      expect(r.status).toBe(200);
      expect(r.data?.['me']).toEqual({ displayName: 'Dave', email: null });
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({ path: ['me', 'email'], extensions: { code: 'FORBIDDEN', requiredScopes: ['read:email', 'read:profile'], missingScopes: ['read:email'] } });
    });

    it('answers UNAUTHENTICATED per field for anonymous callers on a partly public request', async () => {
      const r = await api.run('{ me { id } products(first: 1) { edges { node { id } } } }');
      expect(r.status).toBe(200);
      expect(r.data?.['me']).toBeNull();
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });

  describe('profile', () => {
    it('creates the caller profile on first use with the name claim', async () => {
      const r = await api.run('{ me { id displayName email createdAt } }', { principal: userPrincipal('erin', { scopes: ['read:profile', 'read:email'], name: 'Erin' }) });
      expect(r.data?.['me']).toMatchObject({ displayName: 'Erin', email: null });
      expect((r.data?.['me'] as { createdAt: string }).createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    it('refuses me to a client token (no user)', async () => {
      const r = await api.run('{ me { id } }', { principal: clientPrincipal('svc', { scopes: ['read:profile'] }) });
      expect(r.status).toBe(403);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'user_required' });
    });

    it('updates the profile with write:profile and validates input, writing nothing on error', async () => {
      const ok = await api.run('mutation { updateProfile(input: { displayName: "Alice L.", email: "alice@example.com" }) { displayName email } }', { principal: alice });
      expect(ok.data?.['updateProfile']).toEqual({ displayName: 'Alice L.', email: 'alice@example.com' });
      const bad = await api.run('mutation { updateProfile(input: { displayName: "ok", email: "not-an-email" }) { displayName } }', { principal: alice });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.email' });
      const me = await api.run('{ me { displayName email } }', { principal: alice });
      expect(me.data?.['me']).toEqual({ displayName: 'Alice L.', email: 'alice@example.com' });
    });
  });

  describe('orders', () => {
    it('places an order at catalog prices and returns it with read:orders', async () => {
      const r = await api.run(PLACE, { principal: alice, variables: { input: { items: [{ productId: product2, quantity: 3 }] } } });
      const payload = r.data?.['placeOrder'] as { orderId: string; order: { status: string; total: { amount: string }; items: Array<{ quantity: number; unitPrice: { amount: string } }> } };
      expect(payload.order.status).toBe('PENDING');
      const unit = payload.order.items[0]!.unitPrice.amount;
      expect(payload.order.total.amount).toBe((Math.round(Number(unit) * 100) * 3 / 100).toFixed(2));
    });

    it('gives orderId with write:orders alone and denies order without read:orders', async () => {
      const writer = userPrincipal('alice', { scopes: ['write:orders'] });
      const r = await api.run(PLACE, { principal: writer, variables: { input: { items: [{ productId: product1, quantity: 1 }] } } });
      expect(r.status).toBe(200);
      expect((r.data?.['placeOrder'] as { orderId: string }).orderId).toEqual(expect.any(String));
      expect((r.data?.['placeOrder'] as { order: unknown }).order).toBeNull();
      expect(r.errors?.[0]).toMatchObject({ path: ['placeOrder', 'order'], extensions: { code: 'FORBIDDEN', missingScopes: ['read:orders'] } });
    });

    it('never executes a denied mutation: 403 and nothing written', async () => {
      const before = { stock: await stockOf(1), orders: await orderCount() };
      database.statements.reset();
      const r = await api.run(PLACE, { principal: userPrincipal('alice', { scopes: ['read:orders'] }), variables: { input: { items: [{ productId: product1, quantity: 1 }] } } });
      expect(r.status).toBe(403);
      expect(database.statements.count).toBe(0);
      expect({ stock: await stockOf(1), orders: await orderCount() }).toEqual(before);
    });

    it('rejects a whole mutation operation when any root field is denied, before any side effect', async () => {
      const before = { stock: await stockOf(1), orders: await orderCount() };
      const r = await api.run(
        `mutation { placeOrder(input: { items: [{ productId: "${product1}", quantity: 1 }] }) { orderId } updateOrderStatus(id: "${aliceOrderId}", status: PAID) { id } }`,
        { principal: alice },
      );
      expect(r.status).toBe(403);
      expect(r.errors?.map((e) => e.path?.join('.'))).toEqual(['updateOrderStatus']);
      expect({ stock: await stockOf(1), orders: await orderCount() }).toEqual(before);
    });

    it('refuses placeOrder to a client token', async () => {
      const r = await api.run(PLACE, { principal: clientPrincipal('svc', { scopes: ['write:orders', 'read:orders'] }), variables: { input: { items: [{ productId: product1, quantity: 1 }] } } });
      expect(r.status).toBe(403);
      expect(r.errors?.[0]?.extensions).toMatchObject({ reason: 'user_required' });
    });

    it('names the offending input field with BAD_USER_INPUT and writes nothing', async () => {
      const before = await orderCount();
      const cases: Array<[unknown[], string]> = [
        [[], 'input.items'],
        [Array.from({ length: 51 }, (_, i) => ({ productId: toGlobalId('Product', i + 1), quantity: 1 })), 'input.items'],
        [[{ productId: product1, quantity: 0 }], 'input.items[0].quantity'],
        [[{ productId: product1, quantity: 101 }], 'input.items[0].quantity'],
        [[{ productId: 'garbage', quantity: 1 }], 'input.items[0].productId'],
        [[{ productId: toGlobalId('Product', 999999), quantity: 1 }], 'input.items[0].productId'],
      ];
      for (const [items, field] of cases) {
        const r = await api.run(PLACE, { principal: alice, variables: { input: { items } } });
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
      expect(await orderCount()).toBe(before);
    });

    it('refuses to oversell with CONFLICT naming the input line, writing nothing', async () => {
      await database.db.updateTable('products').set({ stock: 1 }).where('id', '=', 3).execute();
      const before = await orderCount();
      const r = await api.run(PLACE, { principal: alice, variables: { input: { items: [{ productId: product1, quantity: 1 }, { productId: toGlobalId('Product', 3), quantity: 2 }] } } });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK', field: 'input.items[1].quantity' });
      expect(await orderCount()).toBe(before);
      expect(await stockOf(3)).toBe(1);
    });

    it('returns the original order for a repeated idempotency key', async () => {
      const input = { items: [{ productId: product1, quantity: 1 }], idempotencyKey: `key-${target.name}` };
      const first = await api.run(PLACE, { principal: alice, variables: { input } });
      const stock = await stockOf(1);
      const second = await api.run(PLACE, { principal: alice, variables: { input } });
      expect((second.data?.['placeOrder'] as { orderId: string }).orderId).toBe((first.data?.['placeOrder'] as { orderId: string }).orderId);
      expect(await stockOf(1)).toBe(stock);
    });
  });

  describe('ownership on every path', () => {
    const ORDER = (id: string) => `{ order(id: "${id}") { id status } }`;
    const missing = toGlobalId('Order', 987654);

    it('shows the owner their order and another user null, exactly like a missing order', async () => {
      expect((await api.run(ORDER(aliceOrderId), { principal: alice })).data?.['order']).toMatchObject({ id: aliceOrderId });
      const other = await api.run(ORDER(aliceOrderId), { principal: bob });
      const none = await api.run(ORDER(missing), { principal: bob });
      expect(other).toEqual(none);
      expect(other.data?.['order']).toBeNull();
      expect(other.errors).toBeUndefined();
    });

    it('applies the same rules through node(id:)', async () => {
      const q = (id: string) => `{ node(id: "${id}") { id ... on Order { status } } }`;
      expect((await api.run(q(aliceOrderId), { principal: alice })).data?.['node']).toMatchObject({ id: aliceOrderId });
      const other = await api.run(q(aliceOrderId), { principal: bob });
      expect(other).toEqual(await api.run(q(missing), { principal: bob }));
      expect(other.data?.['node']).toBeNull();
      const noScope = await api.run(q(aliceOrderId), { principal: userPrincipal('alice', { scopes: ['read:profile'] }) });
      expect(noScope.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['read:orders'] });
      const anonymous = await api.run(q(aliceOrderId));
      expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect((await api.run(`{ node(id: "${product1}") { id ... on Product { name } } }`)).data?.['node']).toMatchObject({ id: product1 });
    });

    it('lets admin:orders read any order, its customer and the full listing', async () => {
      const r = await api.run(`{ order(id: "${aliceOrderId}") { id customer { displayName } } }`, { principal: admin });
      expect(r.data?.['order']).toMatchObject({ id: aliceOrderId, customer: { displayName: expect.any(String) } });
      const list = await api.run('{ orders(first: 100, status: PENDING) { edges { node { id status } } } }', { principal: admin });
      const ids = (list.data?.['orders'] as { edges: Array<{ node: { id: string; status: string } }> }).edges.map((e) => e.node.id);
      expect(ids).toContain(aliceOrderId);
    });

    it('shows a client token without admin:orders no orders at all', async () => {
      const r = await api.run(ORDER(aliceOrderId), { principal: clientPrincipal('svc', { scopes: ['read:orders'] }) });
      expect(r.data?.['order']).toBeNull();
    });

    it('refuses the orders listing without admin:orders', async () => {
      const r = await api.run('{ orders { edges { node { id } } } }', { principal: alice });
      expect(r.status).toBe(403);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', missingScopes: ['admin:orders'] });
    });

    it('reaches orders through Profile.orders only for the owner, and customers through Order.customer', async () => {
      const r = await api.run('{ me { orders(first: 50) { edges { node { id customer { displayName } } } } } }', { principal: alice });
      const edges = ((r.data?.['me'] as { orders: { edges: Array<{ node: { id: string } }> } }).orders.edges);
      expect(edges.map((e) => e.node.id)).toContain(aliceOrderId);
      const bobs = await api.run('{ me { orders { edges { node { id } } } } }', { principal: bob });
      expect(((bobs.data?.['me'] as { orders: { edges: unknown[] } }).orders.edges)).toHaveLength(0);
    });

    it('cancels only the owner’s order, answering NOT_FOUND to anyone else', async () => {
      const placed = await api.run(PLACE, { principal: alice, variables: { input: { items: [{ productId: product2, quantity: 2 }] } } });
      const id = (placed.data?.['placeOrder'] as { orderId: string }).orderId;
      const stock = await stockOf(2);
      const byBob = await api.run(`mutation { cancelOrder(id: "${id}") { id } }`, { principal: bob });
      expect(byBob.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
      const byAlice = await api.run(`mutation { cancelOrder(id: "${id}") { status } }`, { principal: alice });
      expect(byAlice.data?.['cancelOrder']).toEqual({ status: 'CANCELLED' });
      expect(await stockOf(2)).toBe(stock + 2);
      const again = await api.run(`mutation { cancelOrder(id: "${id}") { status } }`, { principal: alice });
      expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    });

    it('moves orders through the state machine with admin:orders and refuses illegal moves', async () => {
      const placed = await api.run(PLACE, { principal: alice, variables: { input: { items: [{ productId: product1, quantity: 1 }] } } });
      const id = (placed.data?.['placeOrder'] as { orderId: string }).orderId;
      const move = (status: string) => api.run(`mutation { updateOrderStatus(id: "${id}", status: ${status}) { status } }`, { principal: admin });
      expect((await move('SHIPPED')).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
      expect((await move('PAID')).data?.['updateOrderStatus']).toEqual({ status: 'PAID' });
      expect((await move('SHIPPED')).data?.['updateOrderStatus']).toEqual({ status: 'SHIPPED' });
      expect((await move('CANCELLED')).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    });
  });

  describe('one operation, callers with other scopes', () => {
    it('denies a field to the next caller that lacks its scope, after a caller that had it ran the same operation', async () => {
      // graphql-jit compiles per caller shape: the first caller's compiled operation (guards off
      // for what it may read) must never serve the second.
      const query = '{ me { displayName email orders(first: 1) { edges { node { status } } } } }';
      const full = await api.run(query, { principal: alice });
      expect(full.errors).toBeUndefined();
      const limited = await api.run(query, { principal: userPrincipal('alice', { scopes: ['read:profile'], name: 'Alice' }) });
      expect(limited.data?.['me']).toMatchObject({ displayName: expect.any(String), email: null, orders: null });
      expect(limited.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code']]).sort()).toEqual([
        ['me.email', 'FORBIDDEN'],
        ['me.orders', 'FORBIDDEN'],
      ]);
      await expect(api.run(query, { principal: alice })).resolves.toMatchObject({ errors: undefined });
    });
  });

  describe('batching', () => {
    it('loads 50 orders with items and products in a constant number of statements', async () => {
      const shopper = userPrincipal('batch-shopper', { scopes: ALL });
      await database.db.updateTable('products').set({ stock: 1000 }).where('id', '<=', 40).execute();
      for (let i = 0; i < 50; i++) {
        const r = await api.run(PLACE, { principal: shopper, variables: { input: { items: [1, 2, 3].map((p) => ({ productId: toGlobalId('Product', 1 + ((i * 3 + p) % 40)), quantity: 1 })) } } });
        expect(r.errors).toBeUndefined();
      }
      const query = (n: number) => `{ me { orders(first: ${n}) { edges { node { id total { amount } items { quantity unitPrice { amount } product { name price { amount } } } } } } } }`;
      const counts: number[] = [];
      const warm: number[] = [];
      for (const n of [1, 20, 50]) {
        database.statements.reset();
        const r = await api.run(query(n), { principal: shopper });
        expect(r.errors).toBeUndefined();
        expect(((r.data?.['me'] as { orders: { edges: unknown[] } }).orders.edges)).toHaveLength(n);
        counts.push(database.statements.count);
        database.statements.reset();
        await api.run(query(n), { principal: shopper });
        warm.push(database.statements.count);
      }
      // Caller profile, orders page, all items, catalog version, and one for the products not yet shared.
      for (const count of counts) expect([4, 5]).toContain(count);
      expect(warm).toEqual([4, 4, 4]); // every product already shared: no product statement
    });
  });

  describe('modes', () => {
    it('reject mode refuses a partly denied operation whole', async () => {
      const strict = await createTestApi(database, 'reject');
      try {
        const r = await strict.run('{ me { displayName email } }', { principal: userPrincipal('dave', { scopes: ['read:profile'] }) });
        expect(r.status).toBe(403);
        expect(r.data).toBeUndefined();
        expect(r.errors?.[0]).toMatchObject({ path: ['me', 'email'], extensions: { code: 'FORBIDDEN' } });
        // Through node(id:) a field's denial depends on the runtime type: not a reason to reject up front.
        const viaNode = await strict.run(`{ node(id: "${product1}") { id } }`);
        expect(viaNode.status).toBe(200);
        expect(viaNode.data?.['node']).toEqual({ id: product1 });
      } finally {
        await strict.stop();
      }
    });

    it('logs every denial as one structured line without the token', async () => {
      const lines: Array<Record<string, unknown>> = [];
      const capture = {
        info: (obj: Record<string, unknown>) => void lines.push(obj),
        warn: () => undefined,
        error: () => undefined,
        child(bindings: Record<string, unknown>) {
          return { ...capture, info: (obj: Record<string, unknown>) => void lines.push({ ...bindings, ...obj }) };
        },
      };
      const logged = await createTestApi(database, 'filter', capture);
      try {
        await logged.run('{ me { displayName email } }', { principal: userPrincipal('dave', { scopes: ['read:profile'] }) });
        expect(lines).toEqual([
          expect.objectContaining({ event: 'authz.denied', reqId: 'test-request', subject: 'dave', clientId: 'test-app', path: 'me.email', missingScopes: ['read:email'] }),
        ]);
      } finally {
        await logged.stop();
      }
    });

    it('dry-run mode executes everything', async () => {
      const dry = await createTestApi(database, 'dry-run');
      try {
        const r = await dry.run('{ me { displayName email } }', { principal: userPrincipal('dave', { scopes: ['read:profile'] }) });
        expect(r.status).toBe(200);
        expect(r.errors).toBeUndefined();
        expect(r.data?.['me']).toMatchObject({ displayName: expect.any(String) });
      } finally {
        await dry.stop();
      }
    });
  });

  it('treats the anonymous principal as having no scopes', () => {
    expect(ANONYMOUS.scopes.size).toBe(0);
  });
});
