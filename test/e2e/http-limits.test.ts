import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_TOKEN_LENGTH } from '../../src/auth/token-limits.js';
import { MAX_DPOP_PROOF_LENGTH } from '../../src/auth/dpop/dpop-proof.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { openConnection } from '../fixtures/raw-socket.js';

type GraphQLBody = { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

const post = async (server: TestHttpServer, body: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  return { status: r.status, contentType: r.headers.get('content-type') ?? '', body: JSON.parse(text) as GraphQLBody | GraphQLBody[] };
};

/** A request with one header of `size` characters, sent raw (fetch refuses nothing, but this keeps the size exact). */
const statusWithHeader = async (server: TestHttpServer, size: number): Promise<number | undefined> => {
  const connection = await openConnection(server.url);
  try {
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: test\r\nX-Padding: ${'p'.repeat(size)}\r\nConnection: close\r\n\r\n`);
    return await connection.nextStatus(8000);
  } finally {
    connection.destroy();
  }
};

const PRODUCTS = '{ products(first: 1) { edges { node { id } } } }';

describe('request body size', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startHttpServer({ HTTP_BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => server?.close());

  it('answers a body over the limit 413 with a GraphQL error naming the limit', async () => {
    const r = await post(server, JSON.stringify({ query: PRODUCTS, variables: { pad: 'x'.repeat(3000) } }));
    expect(r.status).toBe(413);
    expect(r.contentType).toMatch(/^application\/json/);
    const body = r.body as GraphQLBody;
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limit: 2048 });
  });

  it('accepts a body within the limit', async () => {
    const r = await post(server, JSON.stringify({ query: PRODUCTS, variables: { pad: 'x'.repeat(1500) } }));
    expect(r.status).toBe(200);
    expect((r.body as GraphQLBody).errors).toBeUndefined();
  });

  it('keeps other client errors of the body as they were (malformed JSON → 400)', async () => {
    expect((await post(server, '{ "query": ')).status).toBe(400);
  });
});

describe('default limits', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startHttpServer({});
  });
  afterAll(async () => server?.close());

  it('refuses a body over 1 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await post(server, JSON.stringify({ query: PRODUCTS, variables: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(r.status).toBe(413);
    expect((r.body as GraphQLBody).errors![0]!.extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limit: 1024 * 1024 });
  });

  it('answers headers over 32 KiB with 431', async () => {
    expect(await statusWithHeader(server, 40 * 1024)).toBe(431);
  });

  it('lets the largest accepted token and DPoP proof through to token verification (401, not 431)', async () => {
    const connection = await openConnection(server.url);
    try {
      const body = JSON.stringify({ query: '{ me { id } }' });
      connection.socket.write(
        `POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
          `Authorization: DPoP ${'a'.repeat(MAX_TOKEN_LENGTH)}\r\nDPoP: ${'b'.repeat(MAX_DPOP_PROOF_LENGTH)}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(await connection.nextStatus(8000)).toBe(401);
    } finally {
      connection.destroy();
    }
  });

  it('refuses a token one character over the largest accepted one as invalid_token', async () => {
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a batch (a JSON array body) with 400 BAD_REQUEST: batching is off', async () => {
    const r = await post(server, JSON.stringify([{ query: PRODUCTS }, { query: PRODUCTS }]));
    expect(r.status).toBe(400);
    const body = r.body as GraphQLBody;
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions?.['code']).toBe('BAD_REQUEST');
  });
});

describe('header size', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startHttpServer({ HTTP_MAX_HEADER_BYTES: '20000' });
  });
  afterAll(async () => server?.close());

  it('follows HTTP_MAX_HEADER_BYTES: within it answered, over it 431', async () => {
    expect(await statusWithHeader(server, 18_000)).toBe(200);
    expect(await statusWithHeader(server, 24_000)).toBe(431);
  });
});

describe('batched operations (GRAPHQL_BATCH_MAX=2)', () => {
  let server: TestHttpServer;
  let statements = 0;
  beforeAll(async () => {
    server = await startHttpServer({ GRAPHQL_BATCH_MAX: '2', CATALOG_CACHE_ENTRIES: '0', PRODUCT_CACHE_ENTRIES: '0' }, { onQuery: () => void statements++ });
  });
  afterAll(async () => server?.close());

  it('answers a batch within the bound with one result per operation', async () => {
    const r = await post(server, JSON.stringify([{ query: PRODUCTS }, { query: '{ products(first: 2) { edges { node { id } } } }' }]));
    expect(r.status).toBe(200);
    const results = r.body as GraphQLBody[];
    expect(results).toHaveLength(2);
    expect((results[0]!.data as { products: { edges: unknown[] } }).products.edges).toHaveLength(1);
    expect((results[1]!.data as { products: { edges: unknown[] } }).products.edges).toHaveLength(2);
  });

  it('refuses a batch over the bound with 400 BATCH_LIMIT_EXCEEDED before anything executes', async () => {
    const before = statements;
    const r = await post(server, JSON.stringify([{ query: PRODUCTS }, { query: PRODUCTS }, { query: PRODUCTS }]));
    expect(r.status).toBe(400);
    const body = r.body as GraphQLBody;
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions).toEqual({ code: 'BATCH_LIMIT_EXCEEDED', limit: 2, received: 3 });
    expect(statements).toBe(before);
  });

  it('still answers a single operation', async () => {
    const r = await post(server, JSON.stringify({ query: PRODUCTS }));
    expect(r.status).toBe(200);
  });
});
