/**
 * Attempts to read or write what the caller may not, through every shape of operation that
 * GraphQL allows: fragments, inline fragments on interfaces, aliases, @skip/@include with
 * variables and defaults, __typename, nested payloads, introspection, other users' objects,
 * client-credentials tokens and mutation batches. Each must be answered exactly as the README
 * says, without running the denied resolvers (checked with the database statement counter).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { toGlobalId } from '../../../src/graphql/global-id.js';
import type { ApiResult } from '../../fixtures/api.js';
import { databaseTargets } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';
import { type AuthorizationFixture, USER_SCOPES, createLoggedApi, openAuthorizationFixture, pathKey, valuesAt } from '../../fixtures/authorization.js';

const { index } = buildSchema();

const PRODUCT_1 = toGlobalId('Product', 1);
const ITEMS = `[{ productId: "${PRODUCT_1}", quantity: 1 }]`;

describe.each(databaseTargets())('authorization bypass attempts on $name', (target) => {
  let fx: AuthorizationFixture;
  let A: string; // alice's order
  beforeAll(async () => {
    fx = await openAuthorizationFixture(target);
    A = fx.ids.aliceOrder;
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  const readProfile = () => fx.alice(['read:profile']);

  /** Runs an operation and reports how many statements it sent. */
  async function run(query: string, principal: Principal, variables?: Record<string, unknown>): Promise<ApiResult & { statements: number }> {
    fx.database.statements.reset();
    const result = await fx.api.run(query, { principal, ...(variables ? { variables } : {}) });
    return { ...result, statements: fx.database.statements.count };
  }

  /** Statements an operation sends when it is allowed whole (the minimum a denial may cost). */
  async function baseline(query: string, principal: Principal): Promise<number> {
    const r = await run(query, principal);
    expect(r.errors).toBeUndefined();
    return r.statements;
  }

  const errorsAt = (r: ApiResult) => (r.errors ?? []).map((e) => pathKey(e.path)).sort();

  describe('named fragments', () => {
    it('denies a protected field selected through a named fragment', async () => {
      const r = await run(`{ order(id: "${A}") { ...OrderFields } } fragment OrderFields on Order { id total { amount } customer { displayName email } }`, fx.alice(['read:orders']));
      expect(r.status).toBe(200);
      expect(r.data?.['order']).toMatchObject({ id: A, total: { amount: expect.any(String) }, customer: null });
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({
        path: ['order', 'customer'],
        extensions: { code: 'FORBIDDEN', requiredScopes: ['read:orders', 'read:profile'], missingScopes: ['read:profile'] },
      });
    });

    it('refuses a denied root field spread from a fragment on Query: 403, nothing read', async () => {
      const r = await run(`{ ...Root } fragment Root on Query { order(id: "${A}") { total { amount } } }`, readProfile());
      expect(r.status).toBe(403);
      expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]).toMatchObject({ path: ['order'], extensions: { code: 'FORBIDDEN', missingScopes: ['read:orders'] } });
      expect(r.statements).toBe(0);
    });

    it('denies the email in a fragment on Profile', async () => {
      const r = await run('{ me { ...P } } fragment P on Profile { displayName email }', readProfile());
      expect(r.data?.['me']).toEqual({ displayName: 'Alice', email: null });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['missingScopes']])).toEqual([['me.email', ['read:email']]]);
    });
  });

  describe('nested fragments', () => {
    const NESTED = `{ me { ...A } }
      fragment A on Profile { displayName ...B }
      fragment B on Profile { orders(first: 50) { edges { node { ...C } } } }
      fragment C on Order { id ...D }
      fragment D on Order { customer { ...E } }
      fragment E on Profile { displayName email }`;

    it('denies the email four fragments deep, on every order', async () => {
      const r = await run(NESTED, fx.alice(['read:profile', 'read:orders']));
      expect(r.status).toBe(200);
      const emails = valuesAt(r.data, ['me', 'orders', 'edges', 'node', 'customer', 'email']);
      expect(emails.length).toBeGreaterThan(0);
      expect(new Set(emails)).toEqual(new Set([null]));
      expect(new Set(valuesAt(r.data, ['me', 'orders', 'edges', 'node', 'customer', 'displayName']))).toEqual(new Set(['Alice']));
      expect(new Set(errorsAt(r))).toEqual(new Set(['me.orders.edges.node.customer.email']));
      expect(r.errors).toHaveLength(emails.length);
      for (const e of r.errors ?? []) expect(e.extensions).toMatchObject({ code: 'FORBIDDEN', missingScopes: ['read:email'] });
    });

    it('stops at the first denied field and runs nothing below it', async () => {
      const allowed = await baseline('{ me { displayName } }', readProfile());
      const r = await run(NESTED, readProfile());
      expect(r.data?.['me']).toEqual({ displayName: 'Alice', orders: null });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['missingScopes']])).toEqual([['me.orders', ['read:orders']]]);
      expect(r.statements).toBe(allowed);
    });

    it('denies a root field reached through a fragment on an interface', async () => {
      const r = await run(`{ order(id: "${A}") { ...N } } fragment N on Node { id ... on Order { total { amount } } }`, readProfile());
      expect(r.status).toBe(403);
      expect(r.statements).toBe(0);
    });
  });

  describe('inline fragments on Node', () => {
    const ORDER_TOTAL = (id: string) => `{ node(id: "${id}") { ... on Order { total { amount } } } }`;

    it('denies node(id:) … on Order without read:orders, before loading anything', async () => {
      const r = await run(ORDER_TOTAL(A), readProfile());
      expect(r.status).toBe(200);
      expect(r.data).toEqual({ node: null });
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({ path: ['node'], extensions: { code: 'FORBIDDEN', requiredScopes: ['read:orders'], missingScopes: ['read:orders'] } });
      expect(r.statements).toBe(0);
    });

    it('answers UNAUTHENTICATED to an anonymous caller, before loading anything', async () => {
      const r = await run(ORDER_TOTAL(A), ANONYMOUS);
      expect(r.data).toEqual({ node: null });
      expect(r.errors?.[0]).toMatchObject({ path: ['node'], extensions: { code: 'UNAUTHENTICATED' } });
      expect(r.statements).toBe(0);
    });

    it('denies through nested inline fragments and a named fragment on Node', async () => {
      for (const q of [
        `{ node(id: "${A}") { ... on Node { ... on Order { total { amount } } } } }`,
        `{ node(id: "${A}") { ...N } } fragment N on Node { id ... on Order { status } }`,
        `{ node(id: "${A}") { ... { ... on Order { items { quantity } } } } }`,
      ]) {
        const r = await run(q, readProfile());
        expect({ q, data: r.data, errors: errorsAt(r), statements: r.statements }).toEqual({ q, data: { node: null }, errors: ['node'], statements: 0 });
      }
    });

    it('applies Profile field rules behind node(id:) … on Profile', async () => {
      const r = await run(`{ node(id: "${fx.ids.aliceProfile}") { id ... on Profile { displayName email } } }`, readProfile());
      expect(r.data).toEqual({ node: { id: fx.ids.aliceProfile, displayName: 'Alice', email: null } });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['node.email', 'FORBIDDEN', ['read:email']]]);
    });

    it('denies a field hidden behind the same response key as a public field of another Node type', async () => {
      // Mutually exclusive fragments may use one alias for different fields (Product.description, Profile.email).
      const q = `{ node(id: "${fx.ids.aliceProfile}") { ... on Product { x: description } ... on Profile { x: email } } }`;
      const r = await run(q, readProfile());
      expect(r.data).toEqual({ node: { x: null } });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['node.x', 'FORBIDDEN', ['read:email']]]);
      // The public field under the same key still resolves for a product.
      const product = await run(`{ node(id: "${PRODUCT_1}") { ... on Product { x: description } ... on Profile { x: email } } }`, ANONYMOUS);
      expect(product.errors).toBeUndefined();
    });
  });

  describe('a protected field aliased 100 times', () => {
    const aliases = (make: (i: number) => string) => Array.from({ length: 100 }, (_, i) => make(i)).join(' ');

    it('refuses 100 aliases of a denied root field whole, reading nothing', async () => {
      const r = await run(`{ ${aliases((i) => `o${i}: order(id: "${A}") { total { amount } }`)} }`, readProfile());
      expect(r.status).toBe(403);
      expect(r.data).toBeUndefined();
      expect(errorsAt(r)).toEqual(Array.from({ length: 100 }, (_, i) => `o${i}`).sort());
      for (const e of r.errors ?? []) expect(e.extensions).toMatchObject({ code: 'FORBIDDEN', missingScopes: ['read:orders'] });
      expect(r.statements).toBe(0);
    });

    it('denies each of 100 aliases of Profile.email and runs only the allowed part', async () => {
      const allowed = await baseline('{ me { displayName } }', readProfile());
      const r = await run(`{ me { displayName ${aliases((i) => `e${i}: email`)} } }`, readProfile());
      expect(r.status).toBe(200);
      const me = r.data?.['me'] as Record<string, unknown>;
      expect(me['displayName']).toBe('Alice');
      for (let i = 0; i < 100; i++) expect(me[`e${i}`]).toBeNull();
      expect(errorsAt(r)).toEqual(Array.from({ length: 100 }, (_, i) => `me.e${i}`).sort());
      expect(r.statements).toBe(allowed);
    });

    it('denies each of 100 aliases of a public root reaching a protected type, without a lookup', async () => {
      const allowed = await baseline('{ products(first: 1) { edges { node { id } } } }', readProfile());
      const r = await run(`{ products(first: 1) { edges { node { id } } } ${aliases((i) => `n${i}: node(id: "${A}") { ... on Order { total { amount } } }`)} }`, readProfile());
      expect(r.status).toBe(200);
      expect(errorsAt(r)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`).sort());
      expect(r.statements).toBe(allowed);
    });

    it('denies 100 aliases of Order.customer on every order of the admin listing without loading a profile', async () => {
      // Order.customer is nullable, so each denial nulls only itself (a denied non-null field
      // such as Order.items would null its parents up to the nearest nullable field).
      const admin = fx.client(['admin:orders', 'read:orders']);
      const allowed = await baseline('{ orders(first: 5) { edges { node { id } } } }', admin);
      const r = await run(`{ orders(first: 5) { edges { node { id ${aliases((i) => `c${i}: customer { displayName email }`)} } } } }`, admin);
      expect(r.status).toBe(200);
      const orders = valuesAt(r.data, ['orders', 'edges', 'node']) as Array<Record<string, unknown>>;
      expect(orders.length).toBeGreaterThan(1);
      for (const order of orders) for (let i = 0; i < 100; i++) expect(order[`c${i}`]).toBeNull();
      expect(r.errors).toHaveLength(100 * orders.length);
      for (const e of r.errors ?? []) expect(e.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['read:orders', 'read:profile'], missingScopes: ['read:profile'] });
      expect(r.statements).toBe(allowed);
    });

    it('denies an alias that borrows the name of an allowed field', async () => {
      const r = await run('{ me { displayName: email } }', readProfile());
      expect(r.data).toEqual({ me: { displayName: null } });
      expect(r.errors?.[0]).toMatchObject({ path: ['me', 'displayName'], extensions: { code: 'FORBIDDEN', missingScopes: ['read:email'] } });
    });
  });

  describe('@include / @skip with variables and defaults', () => {
    const expectEmailDenied = (r: ApiResult) => {
      expect(r.data).toEqual({ me: { displayName: 'Alice', email: null } });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code']])).toEqual([['me.email', 'FORBIDDEN']]);
    };
    const expectEmailOmitted = (r: ApiResult) => {
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({ me: { displayName: 'Alice' } });
    };

    it('honours a variable default of true, and each value on every repetition of the same operation', async () => {
      const q = 'query ($withEmail: Boolean = true) { me { displayName email @include(if: $withEmail) } }';
      expectEmailDenied(await run(q, readProfile()));
      expectEmailOmitted(await run(q, readProfile(), { withEmail: false }));
      expectEmailDenied(await run(q, readProfile()));
      expectEmailDenied(await run(q, readProfile(), { withEmail: true }));
      expectEmailOmitted(await run(q, readProfile(), { withEmail: false }));
    });

    it('honours @skip with a default of false and a required variable', async () => {
      const withDefault = 'query ($hide: Boolean = false) { me { displayName email @skip(if: $hide) } }';
      expectEmailDenied(await run(withDefault, readProfile()));
      expectEmailOmitted(await run(withDefault, readProfile(), { hide: true }));
      expectEmailDenied(await run(withDefault, readProfile(), { hide: false }));
      const required = 'query ($hide: Boolean!) { me { displayName email @skip(if: $hide) } }';
      expectEmailOmitted(await run(required, readProfile(), { hide: true }));
      expectEmailDenied(await run(required, readProfile(), { hide: false }));
    });

    it('honours the directives on fragment spreads, inline fragments, and both at once', async () => {
      const spread = 'query ($v: Boolean = true) { me { displayName ...E @include(if: $v) } } fragment E on Profile { email }';
      expectEmailDenied(await run(spread, readProfile()));
      expectEmailOmitted(await run(spread, readProfile(), { v: false }));
      const inline = 'query ($s: Boolean = false) { me { displayName ... @skip(if: $s) { email } } }';
      expectEmailDenied(await run(inline, readProfile()));
      expectEmailOmitted(await run(inline, readProfile(), { s: true }));
      const both = 'query ($s: Boolean = false, $i: Boolean = true) { me { displayName email @skip(if: $s) @include(if: $i) } }';
      expectEmailDenied(await run(both, readProfile()));
      expectEmailOmitted(await run(both, readProfile(), { s: true }));
      expectEmailOmitted(await run(both, readProfile(), { i: false }));
      expectEmailOmitted(await run(both, readProfile(), { s: true, i: true }));
      expectEmailOmitted(await run('{ me { displayName email @include(if: false) } }', readProfile()));
      expectEmailDenied(await run('{ me { displayName email @skip(if: false) } }', readProfile()));
    });

    it('honours a variable on a denied root field', async () => {
      const q = `query ($v: Boolean = true) { products(first: 1) { edges { node { id } } } order(id: "${A}") @include(if: $v) { id } }`;
      const included = await run(q, readProfile());
      expect(included.status).toBe(200);
      expect(included.data?.['order']).toBeNull();
      expect(errorsAt(included)).toEqual(['order']);
      const excluded = await run(q, readProfile(), { v: false });
      expect(excluded.errors).toBeUndefined();
      expect(excluded.data).not.toHaveProperty('order');
    });

    it('does not refuse an operation whose only denied root field is skipped', async () => {
      const q = `query ($hide: Boolean = true) { order(id: "${A}") @skip(if: $hide) { id } }`;
      const skipped = await run(q, readProfile());
      expect(skipped.status).toBe(200);
      expect(skipped.errors).toBeUndefined();
      expect(skipped.data).toEqual({});
      const shown = await run(q, readProfile(), { hide: false });
      expect(shown.status).toBe(403);
      expect(shown.statements).toBe(0);
    });

    it('runs a mutation batch once its denied root field is skipped, and rejects it otherwise', async () => {
      const order = await fx.placeAliceOrder();
      const q = `mutation ($s: Boolean!) { updateProfile(input: { displayName: "Alice" }) { displayName } updateOrderStatus(id: "${order}", status: PAID) @skip(if: $s) { status } }`;
      const alice = fx.alice(['write:profile', 'read:profile', 'read:orders']);
      const before = await fx.snapshot();
      const rejected = await run(q, alice, { s: false });
      expect(rejected.status).toBe(403);
      expect(rejected.statements).toBe(0);
      expect(await fx.snapshot()).toBe(before);
      const skipped = await run(q, alice, { s: true });
      expect(skipped.status).toBe(200);
      expect(skipped.data).toEqual({ updateProfile: { displayName: 'Alice' } });
    });

    it('rejects a mutation whose denied root field is included by default, and runs it once excluded', async () => {
      const order = await fx.placeAliceOrder();
      const q = `mutation ($v: Boolean = true) { updateProfile(input: { displayName: "Alice" }) { displayName } updateOrderStatus(id: "${order}", status: PAID) @include(if: $v) { status } }`;
      const alice = fx.alice(['write:profile', 'read:profile', 'read:orders']);
      const before = await fx.snapshot();
      const rejected = await run(q, alice);
      expect(rejected.status).toBe(403);
      expect(errorsAt(rejected)).toEqual(['updateOrderStatus']);
      expect(rejected.statements).toBe(0);
      expect(await fx.snapshot()).toBe(before);
      const excluded = await run(q, alice, { v: false });
      expect(excluded.errors).toBeUndefined();
      expect(excluded.data).toEqual({ updateProfile: { displayName: 'Alice' } });
      const again = await run(q, alice, { v: true });
      expect(again.status).toBe(403);
      expect(again.statements).toBe(0);
    });
  });

  describe('__typename on a denied object', () => {
    it('does not answer __typename of a denied root field', async () => {
      const r = await run(`{ order(id: "${A}") { __typename } }`, readProfile());
      expect(r.status).toBe(403);
      expect(r.data).toBeUndefined();
      expect(r.statements).toBe(0);
    });

    it('does not reveal through node(id:) whether the object exists or what it is', async () => {
      for (const principal of [readProfile(), ANONYMOUS]) {
        const existing = await run(`{ node(id: "${A}") { __typename } }`, principal);
        const missing = await run(`{ node(id: "${fx.ids.missingOrder}") { __typename } }`, principal);
        expect(existing.data).toEqual({ node: null });
        expect(existing.errors).toHaveLength(1);
        expect(JSON.stringify(existing)).not.toContain('"Order"');
        expect({ ...existing, statements: 0 }).toEqual({ ...missing, statements: 0 });
        expect(existing.statements).toBe(0);
      }
    });

    it('nulls a denied nested object even when only __typename is asked', async () => {
      const r = await run('{ me { displayName orders { __typename } } }', readProfile());
      expect(r.data).toEqual({ me: { displayName: 'Alice', orders: null } });
      expect(errorsAt(r)).toEqual(['me.orders']);
      const placed = await run(`mutation { placeOrder(input: { items: ${ITEMS} }) { orderId order { __typename } } }`, fx.alice(['write:orders']));
      expect(placed.data?.['placeOrder']).toEqual({ orderId: expect.any(String), order: null });
      expect(errorsAt(placed)).toEqual(['placeOrder.order']);
    });
  });

  describe('nested payloads', () => {
    const PLACE = (selection: string) => `mutation { placeOrder(input: { items: ${ITEMS} }) { ${selection} } }`;

    it('returns orderId but not order with write:orders alone, running nothing below it', async () => {
      const writer = fx.alice(['write:orders']);
      const allowed = await baseline(PLACE('orderId'), writer);
      const r = await run(PLACE('orderId order { items { quantity product { name } } customer { email } }'), writer);
      expect(r.status).toBe(200);
      expect(r.data?.['placeOrder']).toEqual({ orderId: expect.any(String), order: null });
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({ path: ['placeOrder', 'order'], extensions: { code: 'FORBIDDEN', requiredScopes: ['read:orders'], missingScopes: ['read:orders'] } });
      expect(r.statements).toBe(allowed);
    });

    it('denies the customer with write:orders and read:orders, and the email without read:email', async () => {
      const q = PLACE('orderId order { status customer { displayName email } }');
      const reader = await run(q, fx.alice(['write:orders', 'read:orders']));
      expect(reader.data?.['placeOrder']).toMatchObject({ order: { status: 'PENDING', customer: null } });
      expect(reader.errors?.map((e) => [pathKey(e.path), e.extensions?.['missingScopes']])).toEqual([['placeOrder.order.customer', ['read:profile']]]);
      const profileReader = await run(q, fx.alice(['write:orders', 'read:orders', 'read:profile']));
      expect(profileReader.data?.['placeOrder']).toMatchObject({ order: { customer: { displayName: 'Alice', email: null } } });
      expect(profileReader.errors?.map((e) => [pathKey(e.path), e.extensions?.['missingScopes']])).toEqual([['placeOrder.order.customer.email', ['read:email']]]);
    });

    it('cancels with write:orders but does not show the cancelled order without read:orders', async () => {
      const order = await fx.placeAliceOrder();
      const r = await run(`mutation { cancelOrder(id: "${order}") { __typename status } }`, fx.alice(['write:orders']));
      // Order.status is non-null: its denial nulls the (nullable) cancelOrder payload.
      expect(r.data).toEqual({ cancelOrder: null });
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['cancelOrder.status', 'FORBIDDEN', ['read:orders']]]);
      const seen = await run(`{ order(id: "${order}") { status } }`, fx.alice(['read:orders']));
      expect(seen.data).toEqual({ order: { status: 'CANCELLED' } });
    });
  });

  describe('introspection', () => {
    it('answers __schema and __type anonymously without touching the database', async () => {
      const r = await run('{ __schema { queryType { name } mutationType { name } types { name } } __type(name: "Order") { name fields { name } } }', ANONYMOUS);
      expect(r.status).toBe(200);
      expect(r.errors).toBeUndefined();
      expect((r.data?.['__schema'] as { types: Array<{ name: string }> }).types.map((t) => t.name)).toEqual(expect.arrayContaining(['Order', 'Profile', 'Query', 'Mutation']));
      expect(r.data?.['__type']).toMatchObject({ name: 'Order' });
      expect(r.statements).toBe(0);
    });

    it('shows the requirement in the description of Order fields', async () => {
      const r = await run('{ __type(name: "Order") { fields { name description } } }', ANONYMOUS);
      const fields = (r.data?.['__type'] as { fields: Array<{ name: string; description: string | null }> }).fields;
      const byName = Object.fromEntries(fields.map((f) => [f.name, f.description]));
      expect(byName['total']).toBe('Requires: read:orders.');
      expect(byName['customer']).toBe('Requires: read:orders AND read:profile.');
    });

    it('shows every protected field’s requirement, and no requirement on public fields', async () => {
      const r = await run('{ __schema { types { name kind fields { name description } } } }', ANONYMOUS);
      const types = (r.data?.['__schema'] as { types: Array<{ name: string; kind: string; fields: Array<{ name: string; description: string | null }> | null }> }).types;
      const descriptions = new Map<string, string>(types.filter((t) => t.kind === 'OBJECT' && !t.name.startsWith('__')).flatMap((t) => (t.fields ?? []).map((f) => [`${t.name}.${f.name}`, f.description ?? ''] as [string, string])));
      const protectedCoordinates = new Set(index.protectedFields.map((f) => f.coordinate));
      for (const { coordinate, requirement } of index.protectedFields) {
        const description = descriptions.get(coordinate);
        if (description === undefined) continue; // an interface field: its implementations carry it
        const scopes = requirement.scopes[0] ?? [];
        const expected = `Requires: ${scopes.join(' AND ')}${requirement.user ? '; a user token' : ''}.`;
        expect({ coordinate, description: description.split('\n\n').pop() }).toEqual({ coordinate, description: expected });
      }
      for (const [coordinate, description] of descriptions) {
        if (!protectedCoordinates.has(coordinate)) expect({ coordinate, description }).toEqual({ coordinate, description: expect.not.stringContaining('Requires:') });
      }
    });
  });

  describe("another user's order answers exactly like a missing one", () => {
    const bob = () => fx.bob([...USER_SCOPES]);
    async function expectSameAnswer(principal: Principal, query: (id: string) => string, other: string, missing: string): Promise<ApiResult> {
      const a = await run(query(other), principal);
      const b = await run(query(missing), principal);
      expect({ ...a, statements: 0 }).toEqual({ ...b, statements: 0 });
      return a;
    }

    it('through order(id:), including Order.customer', async () => {
      const r = await expectSameAnswer(bob(), (id) => `{ order(id: "${id}") { id status customer { email } } }`, A, fx.ids.missingOrder);
      expect(r.data).toEqual({ order: null });
      expect(r.errors).toBeUndefined();
    });

    it('through node(id:), for the order and for its customer profile', async () => {
      const order = await expectSameAnswer(bob(), (id) => `{ node(id: "${id}") { id ... on Order { total { amount } customer { email } } } }`, A, fx.ids.missingOrder);
      expect(order.data).toEqual({ node: null });
      expect(order.errors).toBeUndefined();
      const profile = await expectSameAnswer(bob(), (id) => `{ node(id: "${id}") { id ... on Profile { email } } }`, fx.ids.aliceProfile, fx.ids.missingProfile);
      expect(profile.data).toEqual({ node: null });
    });

    it('through Profile.orders', async () => {
      const r = await expectSameAnswer(bob(), (id) => `{ node(id: "${id}") { ... on Profile { orders { edges { node { id } } } } } }`, fx.ids.aliceProfile, fx.ids.missingProfile);
      expect(r.data).toEqual({ node: null });
      const own = await run('{ me { orders(first: 100) { edges { node { id customer { id } } } } } }', bob());
      const ids = valuesAt(own.data, ['me', 'orders', 'edges', 'node', 'id']);
      expect(ids).toContain(fx.ids.bobOrder);
      expect(ids).not.toContain(A);
      expect(new Set(valuesAt(own.data, ['me', 'orders', 'edges', 'node', 'customer', 'id']))).toEqual(new Set([fx.ids.bobProfile]));
    });

    it('through cancelOrder, writing nothing', async () => {
      const before = await fx.snapshot();
      const r = await expectSameAnswer(bob(), (id) => `mutation { cancelOrder(id: "${id}") { id } }`, A, fx.ids.missingOrder);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
      expect(await fx.snapshot()).toBe(before);
    });

    it('for a client whose id is alice’s subject, and for alice at another issuer', async () => {
      const impostors = [
        fx.client(['read:orders', 'read:profile']),
        { ...fx.client(['read:orders', 'read:profile']), subject: 'alice', clientId: 'alice' },
        userPrincipal('alice', { scopes: USER_SCOPES, issuer: 'https://other-issuer.test' }),
      ];
      for (const principal of impostors) {
        const r = await expectSameAnswer(principal, (id) => `{ order(id: "${id}") { id } o: node(id: "${id}") { id } }`, A, fx.ids.missingOrder);
        expect(r.data).toEqual({ order: null, o: null });
        await expectSameAnswer(principal, (id) => `{ node(id: "${id}") { ... on Profile { email orders { edges { node { id } } } } } }`, fx.ids.aliceProfile, fx.ids.missingProfile);
      }
    });
  });

  describe('a client-credentials token with read:orders but no admin:orders', () => {
    const svc = () => fx.client(['read:orders', 'read:profile']);

    it('sees no order through order(id:) or node(id:)', async () => {
      const r = await run(`{ order(id: "${A}") { id } n: node(id: "${A}") { id } b: order(id: "${fx.ids.bobOrder}") { id } }`, svc());
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({ order: null, n: null, b: null });
    });

    it('is refused the listing and me', async () => {
      const list = await run('{ orders { edges { node { id } } } }', svc());
      expect(list.status).toBe(403);
      expect(list.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', missingScopes: ['admin:orders'] });
      expect(list.statements).toBe(0);
      const me = await run('{ me { orders { edges { node { id } } } } }', svc());
      expect(me.status).toBe(403);
      expect(me.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'user_required' });
    });

    it('does not reach a customer’s orders through their profile', async () => {
      const r = await run(`{ node(id: "${fx.ids.aliceProfile}") { ... on Profile { orders { edges { node { id } } } } } }`, svc());
      expect(r.data).toEqual({ node: null });
    });

    it('sees them once granted admin:orders (control)', async () => {
      const r = await run(`{ order(id: "${A}") { id } n: node(id: "${A}") { id } }`, fx.client(['read:orders', 'admin:orders']));
      expect(r.data).toEqual({ order: { id: A }, n: { id: A } });
    });
  });

  describe('a mutation batch with one denied root field', () => {
    /** Alice with every user scope but admin:orders: only updateOrderStatus is denied. */
    const alice = () => fx.alice([...USER_SCOPES]);
    const batches = async () => {
      const cancel = await fx.placeAliceOrder();
      const move = await fx.placeAliceOrder();
      const update = 'updateProfile(input: { displayName: "Mallory", email: "mallory@example.com" }) { displayName }';
      const place = `placeOrder(input: { items: ${ITEMS} }) { orderId }`;
      const cancelOrder = `cancelOrder(id: "${cancel}") { status }`;
      const denied = `updateOrderStatus(id: "${move}", status: PAID) { status }`;
      return {
        'denied last': `mutation { ${update} ${place} ${cancelOrder} ${denied} }`,
        'denied first': `mutation { ${denied} ${update} ${place} ${cancelOrder} }`,
        'denied in a named fragment': `mutation { ${update} ...M ${place} } fragment M on Mutation { ${cancelOrder} ${denied} }`,
        'denied in an inline fragment': `mutation { ${update} ... on Mutation { ${denied} } ${place} }`,
        'denied under an innocent alias': `mutation { ${update} profileAgain: ${denied} ${place} }`,
        'denied under @include with a default': `mutation ($v: Boolean = true) { ${update} ${denied.replace(' {', ' @include(if: $v) {')} ${place} }`,
      };
    };

    it('executes nothing: 403 naming only the denied field, no statement, no row changed', async () => {
      for (const [name, query] of Object.entries(await batches())) {
        const before = await fx.snapshot();
        const r = await run(query, alice());
        expect({ name, status: r.status, errors: errorsAt(r), statements: r.statements }).toEqual({ name, status: 403, errors: [expect.stringMatching(/^(updateOrderStatus|profileAgain)$/)], statements: 0 });
        expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
        expect(r.data).toBeUndefined();
        expect(await fx.snapshot()).toBe(before);
      }
    });

    it('executes nothing for an anonymous caller (401) or a client token lacking a user (403)', async () => {
      const { 'denied last': query } = await batches();
      const before = await fx.snapshot();
      const anonymous = await run(query, ANONYMOUS);
      expect(anonymous.status).toBe(401);
      expect(anonymous.statements).toBe(0);
      const client = await run(query, fx.client([...USER_SCOPES, 'admin:orders']));
      expect(client.status).toBe(403);
      expect(errorsAt(client)).toEqual(['cancelOrder', 'placeOrder', 'updateProfile']);
      for (const e of client.errors ?? []) expect(e.extensions).toMatchObject({ reason: 'user_required' });
      expect(client.statements).toBe(0);
      expect(await fx.snapshot()).toBe(before);
    });

    it('executes the batch when every root field is allowed (control)', async () => {
      const { 'denied last': query } = await batches();
      const r = await run(query, userPrincipal('alice', { scopes: [...USER_SCOPES, 'admin:orders'], name: 'Alice' }));
      expect(r.errors).toBeUndefined();
      expect(r.data).toMatchObject({ updateProfile: { displayName: 'Mallory' }, cancelOrder: { status: 'CANCELLED' }, updateOrderStatus: { status: 'PAID' } });
      await run('mutation { updateProfile(input: { displayName: "Alice", email: "alice@example.com" }) { id } }', alice());
    });
  });

  describe('plan reuse across callers', () => {
    it('judges a repeated operation afresh for each scope set and token kind', async () => {
      const q = `{ me { displayName email orders { edges { node { id } } } } }`;
      const full = await run(q, fx.alice([...USER_SCOPES]));
      expect(full.errors).toBeUndefined();
      const partial = await run(q, fx.alice(['read:profile']));
      expect(errorsAt(partial)).toEqual(['me.email', 'me.orders']);
      const client = await run(q, fx.client([...USER_SCOPES]));
      expect(client.status).toBe(403);
      expect(client.errors?.[0]?.extensions).toMatchObject({ reason: 'user_required' });
      const anonymous = await run(q, ANONYMOUS);
      expect(anonymous.status).toBe(401);
      expect((await run(q, fx.alice([...USER_SCOPES]))).errors).toBeUndefined();
    });
  });

  describe('regressions found by the bypass group', () => {
    const CONFUSED = (id: string) => `{ node(id: "${id}") { ... on Product { x: description } ... on Profile { x: email } } }`;
    const PLAIN = (id: string) => `{ node(id: "${id}") { ... on Profile { x: email } } }`;

    it('logs a denial in filter mode as one structured line (control: one field name per response key)', async () => {
      const api = await createLoggedApi(fx.database, 'filter');
      try {
        const r = await api.run(PLAIN(fx.ids.aliceProfile), { principal: readProfile() });
        expect(errorsAt(r)).toEqual(['node.x']);
        expect(api.lines.filter((l) => l['event'] === 'authz.denied')).toEqual([expect.objectContaining({ path: 'node.x', field: 'Profile.email', missingScopes: ['read:email'] })]);
      } finally {
        await api.stop();
      }
    });

    // Regression: fragments on mutually exclusive types may use one alias for different fields
    // (valid GraphQL); the plan must evaluate Profile.email, not only the first selection's field.
    it('logs a denial hidden behind an alias shared with a public field of another type', async () => {
      const api = await createLoggedApi(fx.database, 'filter');
      try {
        const r = await api.run(CONFUSED(fx.ids.aliceProfile), { principal: readProfile() });
        expect(errorsAt(r)).toEqual(['node.x']); // enforced by the field guard
        expect(api.lines.filter((l) => l['event'] === 'authz.denied')).toEqual([expect.objectContaining({ path: 'node.x', field: 'Profile.email' })]);
      } finally {
        await api.stop();
      }
    });

    // Regression: dry-run must log such a would-be denial too.
    it('dry-run logs the would-be denial of a field behind a shared alias', async () => {
      const api = await createLoggedApi(fx.database, 'dry-run');
      try {
        const plain = await api.run(PLAIN(fx.ids.aliceProfile), { principal: readProfile() });
        expect(plain.data).toEqual({ node: { x: 'alice@example.com' } });
        expect(api.lines.filter((l) => l['event'] === 'authz.would_deny')).toHaveLength(1);
        const confused = await api.run(CONFUSED(fx.ids.aliceProfile), { principal: readProfile() });
        expect(confused.data).toEqual({ node: { x: 'alice@example.com' } }); // returned, as dry-run intends
        expect(api.lines.filter((l) => l['event'] === 'authz.would_deny')).toHaveLength(2);
      } finally {
        await api.stop();
      }
    });

    // Regression: the plan reads coerced variables, so `"v": null` for `$v: Boolean = true` in
    // @include(if: $v) is a GraphQL error from execution, never an internal error, whatever is cached.
    it('answers a null @include variable with a GraphQL error, not an internal error', async () => {
      const q = 'query ($nullable: Boolean = true) { me { displayName email @include(if: $nullable) } }';
      // Apollo's default logger binds console.error when the server is created: spy first.
      const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const api = await createLoggedApi(fx.database, 'filter');
      try {
        const r = await api.run(q, { principal: readProfile(), variables: { nullable: null } });
        expect(r.status).toBeLessThan(500);
        expect(valuesAt(r.data, ['me', 'email']).filter((v) => v != null)).toEqual([]);
      } finally {
        await api.stop();
        quiet.mockRestore();
      }
    });
  });
});
