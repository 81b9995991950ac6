import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const BY_FIRST = 'query Catalog($first: Int) { products(first: $first) { edges { node { id name } } } }';

/** A JSON array nested `depth` deep, written without recursion. */
function nestedArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('catalog response cache keys (security review item 1)', () => {
  let server: TestHttpServer;
  const post = async (body: string) => {
    const r = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: r.status, hit: r.headers.get('x-catalog-cache') === 'hit', body: (await r.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } };
  };

  beforeAll(async () => {
    server = await startHttpServer({});
  });
  afterAll(async () => server?.close());

  it('ignores undeclared variables: a request that only adds one is served from the entry of the plain request', async () => {
    const plain = await post(JSON.stringify({ query: BY_FIRST, variables: { first: 2 } }));
    const padded = await post(JSON.stringify({ query: BY_FIRST, variables: { first: 2, junk: 'x'.repeat(100_000) } }));
    const other = await post(JSON.stringify({ query: BY_FIRST, variables: { first: 2, junk: 'y'.repeat(100_000) } }));
    expect(plain.status).toBe(200);
    expect(padded.hit).toBe(true);
    expect(other.hit).toBe(true);
    expect(other.body).toEqual(plain.body);
  });

  it('keys on the declared variables after coercion: defaults and explicit values of one meaning share an entry', async () => {
    const q = 'query Catalog($first: Int = 3) { products(first: $first) { edges { node { id } } } }';
    await post(JSON.stringify({ query: q, variables: {} }));
    expect((await post(JSON.stringify({ query: q, variables: { first: 3 } }))).hit).toBe(true);
    expect((await post(JSON.stringify({ query: q, variables: { first: 1 } }))).hit).toBe(false);
  });

  it('does not cache a request whose declared variables are large', async () => {
    const q = 'query Search($after: String) { products(first: 1, after: $after) { edges { node { id } } } }';
    const big = JSON.stringify({ query: q, variables: { after: 'a'.repeat(5000) } });
    await post(big);
    // The invalid cursor is a client error; in any case nothing that large is stored or served.
    expect((await post(big)).hit).toBe(false);
  });

  it('answers 200 to an anonymous catalog query carrying an unused variable nested 100,000 deep', async () => {
    const body = `{"query":${JSON.stringify(BY_FIRST)},"variables":{"first":1,"deep":${nestedArray(100_000)}}}`;
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('reads the root fields through fragments: a catalog query written with a fragment on Query is cached, one reaching me is not', async () => {
    const catalog = 'query C { ...Page } fragment Page on Query { products(first: 2) { edges { node { id } } } }';
    await post(JSON.stringify({ query: catalog }));
    expect((await post(JSON.stringify({ query: catalog }))).hit).toBe(true);
    const beyond = 'query D { ...Page } fragment Page on Query { products(first: 2) { edges { node { id } } } me { id } }';
    await post(JSON.stringify({ query: beyond }));
    expect((await post(JSON.stringify({ query: beyond }))).hit).toBe(false);
  });
});
