import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toGlobalId } from '../../src/graphql/global-id.js';
import { databaseTargets } from '../fixtures/databases.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { type ScratchDatabase, createScratchDatabase } from '../fixtures/scratch-postgres.js';

const CATALOG = '{ products(first: 3) { edges { node { id name price { amount } inStock } } } }';

describe('cache of anonymous catalog responses', () => {
  let server: TestHttpServer;
  const raw = async (query: string, token?: string) => {
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { hit: r.headers.get('x-catalog-cache') === 'hit', body: (await r.json()) as { data: { products: { edges: Array<{ node: { inStock: boolean; price: { amount: string } } }> } } } };
  };

  beforeAll(async () => {
    server = await startHttpServer({});
    await server.database.db.updateTable('products').set({ stock: 1 }).where('id', '=', 1).execute();
  });
  afterAll(async () => server?.close());

  it('serves a repeated anonymous catalog query from the cache', async () => {
    const first = await raw(CATALOG);
    const second = await raw(CATALOG);
    expect(first.hit).toBe(false);
    expect(second.hit).toBe(true);
    expect(second.body).toEqual(first.body);
  });

  it('never serves or stores responses for requests with a token', async () => {
    const token = await server.devIssuer!.sign({ sub: 'carol', scope: 'read:profile' });
    await raw(CATALOG);
    expect((await raw(CATALOG, token)).hit).toBe(false);
    expect((await raw(CATALOG, token)).hit).toBe(false);
  });

  it('is invalidated when an order changes stock', async () => {
    await raw(CATALOG);
    expect((await raw(CATALOG)).body.data.products.edges[0]!.node.inStock).toBe(true);
    const token = await server.devIssuer!.sign({ sub: 'dave', scope: 'write:orders' });
    const placed = await server.graphql(`mutation { placeOrder(input: { items: [{ productId: "${toGlobalId('Product', 1)}", quantity: 1 }] }) { orderId } }`, { token });
    expect(placed.body.errors).toBeUndefined();
    const after = await raw(CATALOG);
    expect(after.hit).toBe(false);
    expect(after.body.data.products.edges[0]!.node.inStock).toBe(false);
  });

  it('is invalidated by a change made outside the API (a manual price update)', async () => {
    await raw(CATALOG);
    await server.database.db.updateTable('products').set({ price_minor: 12345 }).where('id', '=', 1).execute();
    const after = await raw(CATALOG);
    expect(after.hit).toBe(false);
    expect(after.body.data.products.edges[0]!.node.price.amount).toBe('123.45');
  });

  it('does not cache operations that reach beyond the catalog', async () => {
    const q = '{ products(first: 1) { edges { node { id } } } me { id } }';
    await raw(q);
    expect((await raw(q)).hit).toBe(false);
  });
});

describe('product rows shared between requests (PRODUCT_CACHE_ENTRIES)', () => {
  const PRODUCT = `{ product(id: "${toGlobalId('Product', 2)}") { name price { amount } } }`;
  /** Statements reading product rows for each of three identical requests with a token (never answered from the response cache). */
  async function productReads(env: Record<string, string>): Promise<number[]> {
    const statements: string[] = [];
    const server = await startHttpServer(env, { onQuery: (sql) => statements.push(sql) });
    try {
      const token = await server.devIssuer!.sign({ sub: 'erin', scope: 'read:profile' });
      const reads: number[] = [];
      for (let i = 0; i < 3; i++) {
        statements.length = 0;
        const r = await server.graphql(PRODUCT, { token });
        expect(r.body.data?.['product']).toMatchObject({ name: expect.any(String) });
        reads.push(statements.filter((sql) => /from "products"/.test(sql)).length);
      }
      return reads;
    } finally {
      await server.close();
    }
  }

  it('reads a product row once, then only the catalog version', async () => {
    await expect(productReads({})).resolves.toEqual([1, 0, 0]);
  });

  it('reads it every time with PRODUCT_CACHE_ENTRIES=0', async () => {
    await expect(productReads({ PRODUCT_CACHE_ENTRIES: '0' })).resolves.toEqual([1, 1, 1]);
  });
});

describe.each(databaseTargets())('catalog caches and orders on $name', (target) => {
  const PAGE = '{ products(first: 5) { edges { node { id inStock } } } }';
  const PRODUCT_ID = toGlobalId('Product', 4);
  let server: TestHttpServer;
  let scratch: ScratchDatabase | undefined;

  beforeAll(async () => {
    scratch = target.url === undefined ? undefined : await createScratchDatabase(target.url, 'rs_catalog_cache');
    server = await startHttpServer(scratch ? { DATABASE_URL: scratch.url } : {});
    await server.database.db.updateTable('products').set({ stock: 2 }).where('id', '=', 4).execute();
  });
  afterAll(async () => {
    await server?.close();
    await scratch?.drop();
  });

  it('serves a cached page and product row again only until an order changes the stock of a product they show', async () => {
    const reader = await server.devIssuer!.sign({ sub: 'frank', scope: 'read:profile' });
    const buyer = await server.devIssuer!.sign({ sub: 'gina', scope: 'write:orders' });
    const shown = async () => {
      const r = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE }) });
      const body = (await r.json()) as { data: { products: { edges: Array<{ node: { id: string; inStock: boolean } }> } } };
      return { hit: r.headers.get('x-catalog-cache') === 'hit', inStock: body.data.products.edges.find((e) => e.node.id === PRODUCT_ID)?.node.inStock };
    };
    const row = async () => (await server.graphql(`{ product(id: "${PRODUCT_ID}") { inStock } }`, { token: reader })).body.data?.['product'];
    const buy = async (quantity: number) => {
      const r = await server.graphql(`mutation { placeOrder(input: { items: [{ productId: "${PRODUCT_ID}", quantity: ${quantity} }] }) { orderId } }`, { token: buyer });
      expect(r.body.errors).toBeUndefined();
    };

    await shown();
    expect(await shown()).toEqual({ hit: true, inStock: true });
    expect(await row()).toEqual({ inStock: true });
    await buy(1);
    expect(await shown()).toEqual({ hit: false, inStock: true });
    expect(await shown()).toEqual({ hit: true, inStock: true });
    await buy(1);
    expect(await shown()).toEqual({ hit: false, inStock: false });
    expect(await row()).toEqual({ inStock: false });
  });
});
