/**
 * Connections of a protected node type (OrderConnection, OrderEdge) carry the node type's
 * requirement: their cursors and page info tell which rows exist and how many there are, which
 * is what `Order`'s `read:orders` protects. And cursors are opaque: they reveal no row id, and
 * only a cursor this server issued (untampered) is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Principal } from '../../../src/auth/principal.js';
import { fromGlobalId } from '../../../src/graphql/global-id.js';
import { type ApiResult, createTestApi } from '../../fixtures/api.js';
import { databaseTargets } from '../../fixtures/databases.js';
import { type AuthorizationFixture, openAuthorizationFixture, pathKey } from '../../fixtures/authorization.js';

interface Page {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const LISTING = 'query ($after: String) { orders(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }';

describe.each(databaseTargets())('connection metadata of protected types on $name', (target) => {
  let fx: AuthorizationFixture;
  beforeAll(async () => {
    fx = await openAuthorizationFixture(target);
    // Enough orders for several pages.
    for (let i = 0; i < 3; i++) await fx.placeAliceOrder();
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  async function run(query: string, principal: Principal, variables?: Record<string, unknown>): Promise<ApiResult & { statements: number }> {
    fx.database.statements.reset();
    const result = await fx.api.run(query, { principal, ...(variables ? { variables } : {}) });
    return { ...result, statements: fx.database.statements.count };
  }

  const adminOnly = () => fx.client(['admin:orders']);
  const adminReader = () => fx.client(['admin:orders', 'read:orders']);
  const pageOf = (r: ApiResult): Page => r.data?.['orders'] as Page;

  describe('Query.orders', () => {
    it('refuses cursors and page info to admin:orders without read:orders: 403 naming read:orders, nothing read', async () => {
      const q = `{ orders(first: 5, customerId: "${fx.ids.aliceProfile}") { edges { cursor } pageInfo { hasNextPage endCursor } } }`;
      const r = await run(q, adminOnly());
      expect(r.status).toBe(403);
      const challenge = r.headers.get('www-authenticate') ?? '';
      expect(challenge).toContain('error="insufficient_scope"');
      expect(/scope="([^"]*)"/.exec(challenge)?.[1]?.split(' ')).toContain('read:orders');
      expect(r.data).toBeUndefined();
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({ path: ['orders'], extensions: { code: 'FORBIDDEN', missingScopes: ['read:orders'] } });
      expect(r.statements).toBe(0);
    });

    it('refuses page info alone and __typename alone without read:orders', async () => {
      for (const q of ['{ orders { pageInfo { hasNextPage } } }', '{ orders(first: 1) { __typename } }', '{ orders { edges { __typename } } }']) {
        const r = await run(q, adminOnly());
        expect({ q, status: r.status, errors: r.errors?.map((e) => [pathKey(e.path), e.extensions?.['missingScopes']]), statements: r.statements }).toEqual({
          q,
          status: 403,
          errors: [['orders', ['read:orders']]],
          statements: 0,
        });
      }
    });

    it('denies the listing beside an allowed root field', async () => {
      const r = await run('{ products(first: 1) { edges { node { id } } } orders { pageInfo { endCursor } } }', adminOnly());
      expect(r.status).toBe(200);
      // orders is non-null: its denial nulls the whole response data.
      expect(r.data).toBeNull();
      expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['orders', 'FORBIDDEN', ['read:orders']]]);
    });

    it('answers with admin:orders and read:orders together', async () => {
      const r = await run(LISTING, adminReader());
      expect(r.errors).toBeUndefined();
      expect(pageOf(r).edges).toHaveLength(2);
      expect(pageOf(r).pageInfo.hasNextPage).toBe(true);
    });
  });

  describe('Profile.orders', () => {
    const q = '{ me { displayName orders(first: 5) { edges { cursor } pageInfo { hasNextPage endCursor } } } }';

    it('denies a profile’s order cursors and page info without read:orders, also to an admin', async () => {
      for (const scopes of [['read:profile'], ['read:profile', 'admin:orders']]) {
        const r = await run(q, fx.alice(scopes));
        expect(r.status).toBe(200);
        expect(r.data).toEqual({ me: { displayName: 'Alice', orders: null } });
        expect(r.errors?.map((e) => [pathKey(e.path), e.extensions?.['code'], e.extensions?.['missingScopes']])).toEqual([['me.orders', 'FORBIDDEN', ['read:orders']]]);
      }
    });

    it('answers them with read:orders', async () => {
      const r = await run(q, fx.alice(['read:profile', 'read:orders']));
      expect(r.errors).toBeUndefined();
      expect(((r.data?.['me'] as { orders: Page }).orders.edges.length)).toBeGreaterThan(0);
    });
  });

  describe('cursors', () => {
    it('are not readable text such as the row id (v1:4)', async () => {
      const page = pageOf(await run(LISTING, adminReader()));
      for (const edge of page.edges) {
        const rowId = fromGlobalId(edge.node.id)?.id;
        expect(rowId).toEqual(expect.any(Number));
        const decoded = Buffer.from(edge.cursor, 'base64url').toString('latin1');
        expect(decoded).not.toBe(`v1:${rowId}`);
        // Ciphertext: random-looking bytes, not printable text that could spell an id.
        expect(decoded).not.toMatch(/^[\x20-\x7e]*$/);
      }
    });

    it('do not look sequential: cursors of neighbouring orders share no prefix', async () => {
      const [a, b] = pageOf(await run(LISTING, adminReader())).edges;
      let common = 0;
      while (common < a!.cursor.length && a!.cursor[common] === b!.cursor[common]) common++;
      expect(common).toBeLessThan(4);
    });

    it('page through the listing: each next page starts after the previous end cursor', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const r = await run(LISTING, adminReader(), { after });
        expect(r.errors).toBeUndefined();
        const page = pageOf(r);
        seen.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const ids = seen.map((id) => fromGlobalId(id)!.id);
      expect(ids).toEqual([...ids].sort((x, y) => y - x));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeGreaterThanOrEqual(5);
    });

    it('refuses a tampered cursor with BAD_USER_INPUT naming after', async () => {
      const cursor = pageOf(await run(LISTING, adminReader())).pageInfo.endCursor!;
      const middle = Math.floor(cursor.length / 2);
      const tampered = cursor.slice(0, middle) + (cursor[middle] === 'A' ? 'B' : 'A') + cursor.slice(middle + 1);
      const r = await run(LISTING, adminReader(), { after: tampered });
      expect(r.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['field']])).toEqual([['BAD_USER_INPUT', 'after']]);
    });

    it('refuses the readable cursor of earlier versions (base64 of v1:<id>)', async () => {
      const rowId = fromGlobalId(fx.ids.aliceOrder)!.id;
      const r = await run(LISTING, adminReader(), { after: Buffer.from(`v1:${rowId}`).toString('base64url') });
      expect(r.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['field']])).toEqual([['BAD_USER_INPUT', 'after']]);
    });

    it('refuses a cursor issued by another server (another key) with BAD_USER_INPUT naming after', async () => {
      const other = await createTestApi(fx.database);
      try {
        const foreign = pageOf(await other.run(LISTING, { principal: adminReader() })).pageInfo.endCursor!;
        const own = pageOf(await run(LISTING, adminReader())).pageInfo.endCursor!;
        expect(foreign).not.toBe(own);
        const r = await run(LISTING, adminReader(), { after: foreign });
        expect(r.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['field']])).toEqual([['BAD_USER_INPUT', 'after']]);
        const products = await fx.api.run('query ($after: String) { products(first: 1, after: $after) { edges { cursor } } }', {
          variables: { after: pageOf(await other.run(LISTING, { principal: adminReader() })).edges[0]!.cursor },
        });
        expect(products.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['field']])).toEqual([['BAD_USER_INPUT', 'after']]);
      } finally {
        await other.stop();
      }
    });
  });
});
