import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/config.js';
import { toGlobalId } from '../../src/graphql/global-id.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { manifestEntry, sha256, writeManifest } from '../fixtures/persisted-documents.js';

const ME = manifestEntry('Me', 'query', 'query Me { me { displayName } }');
const CATALOG = manifestEntry('Catalog', 'query', 'query Catalog($n: Int) { products(first: $n) { edges { node { id name } } } }');
const UNKNOWN = 'query Unknown { me { displayName email } }';
const PLACE_UNKNOWN = `mutation PlaceUnknown { placeOrder(input: { items: [{ productId: "${toGlobalId('Product', 1)}", quantity: 1 }] }) { orderId } }`;
const MANIFEST_FILE = writeManifest([ME, CATALOG]);
/** Both executors, as `npm test` runs the e2e tests. */
const EXECUTOR: Record<string, string> = process.env['GRAPHQL_EXECUTOR'] ? { GRAPHQL_EXECUTOR: process.env['GRAPHQL_EXECUTOR'] } : {};

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> };

/** A server whose SQL statements and log lines are counted. */
async function start(env: Record<string, string>) {
  const statements: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const server = await startHttpServer(
    { ...EXECUTOR, ...env },
    { onQuery: (sql) => statements.push(sql), logger: { level: 'info', stream: { write: (line) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } } },
  );
  return { server, statements, logLines };
}

/** POSTs a GraphQL request body as given (the id-only form has no `query`). */
async function post(server: TestHttpServer, body: Record<string, unknown>, token?: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

/** GETs a GraphQL request: every member JSON-encoded in the query string, as Apollo Client does. */
async function get(server: TestHttpServer, params: Record<string, unknown>, token?: string): Promise<{ status: number; body: Body }> {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const response = await fetch(`${server.url}/graphql?${search}`, {
    headers: { 'apollo-require-preflight': 'true', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const byHash = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
const codeOf = (body: Body) => body.errors?.[0]?.extensions?.['code'];

describe('trusted documents: off (the default)', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    ctx = await start({});
  });
  afterAll(async () => ctx?.server.close());

  it('runs any operation, as before, and logs nothing about it', async () => {
    const token = await ctx.server.devIssuer!.sign({ sub: 'off-user', name: 'Olive', scope: 'read:profile read:email' });
    const r = await post(ctx.server, { query: UNKNOWN }, token);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ me: { displayName: 'Olive', email: null } });
    expect(ctx.logLines.filter((l) => l['event'] === 'persisted_documents.unknown_operation')).toEqual([]);
  });

  it('keeps automatic persisted queries working: a miss, a registration, then the hash alone', async () => {
    const doc = '{ products(first: 1) { edges { node { name } } } }';
    expect(codeOf((await post(ctx.server, byHash(sha256(doc)))).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(ctx.server, { query: doc, ...byHash(sha256(doc)) });
    expect(registered.status).toBe(200);
    const replay = await post(ctx.server, byHash(sha256(doc)));
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(registered.body);
    const replayGet = await get(ctx.server, byHash(sha256(doc)));
    expect(replayGet.body).toEqual(registered.body);
  });
});

describe('automatic persisted queries: a bounded cache (APQ_CACHE_BYTES)', () => {
  it('forgets the least recently registered document once the bytes are used up', async () => {
    const { server } = await start({ APQ_CACHE_BYTES: '120' });
    try {
      // 69 bytes each: one fits, two do not.
      const first = '{ products(first: 1) { edges { node { name } } } } # first.........';
      const second = '{ products(first: 1) { edges { node { name } } } } # second........';
      expect((await post(server, { query: first, ...byHash(sha256(first)) })).status).toBe(200);
      expect((await post(server, byHash(sha256(first)))).status).toBe(200);
      expect((await post(server, { query: second, ...byHash(sha256(second)) })).status).toBe(200);
      expect(codeOf((await post(server, byHash(sha256(first)))).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await post(server, byHash(sha256(second)))).body.data).toBeDefined();
    } finally {
      await server.close();
    }
  });

  it('is off with APQ_CACHE_BYTES=0 and no manifest', async () => {
    const { server } = await start({ APQ_CACHE_BYTES: '0' });
    try {
      const doc = '{ products(first: 1) { edges { cursor } } }';
      expect(codeOf((await post(server, { query: doc, ...byHash(sha256(doc)) })).body)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
      expect((await post(server, { query: doc })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('trusted documents: audit', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    ctx = await start({ PERSISTED_DOCUMENTS_FILE: MANIFEST_FILE, PERSISTED_DOCUMENTS_MODE: 'audit' });
  });
  afterAll(async () => ctx?.server.close());

  it('runs an unknown operation and logs one line with its name and hash, never its variables or the token', async () => {
    const token = await ctx.server.devIssuer!.sign({ sub: 'audit-user', name: 'Ada', scope: 'read:profile' });
    const query = 'query Snoop($n: Int) { products(first: $n) { edges { cursor } } me { displayName } }';
    const r = await post(ctx.server, { query, variables: { n: 87 } }, token);
    expect(r.status).toBe(200);
    expect(r.body.data?.['me']).toEqual({ displayName: 'Ada' });
    const lines = ctx.logLines.filter((l) => l['event'] === 'persisted_documents.unknown_operation');
    expect(lines).toEqual([expect.objectContaining({ operationName: 'Snoop', queryHash: sha256(query) })]);
    const line = JSON.stringify(lines[0]);
    expect(line).not.toMatch(/"n"|variables/);
    expect(line).not.toContain(token);
    expect(line).not.toContain(token.split('.')[1]!);
  });

  it('logs nothing for a manifest operation', async () => {
    const before = ctx.logLines.length;
    const r = await post(ctx.server, { query: CATALOG.body, variables: { n: 1 } });
    expect(r.status).toBe(200);
    expect(ctx.logLines.slice(before).filter((l) => l['event'] === 'persisted_documents.unknown_operation')).toEqual([]);
  });
});

describe('trusted documents: enforce', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  let reader: string;
  beforeAll(async () => {
    ctx = await start({ PERSISTED_DOCUMENTS_FILE: MANIFEST_FILE, PERSISTED_DOCUMENTS_MODE: 'enforce', PERSISTED_DOCUMENTS_BYPASS_SCOPE: 'internal:any-operation' });
    reader = await ctx.server.devIssuer!.sign({ sub: 'enforce-user', name: 'Eve', scope: 'read:profile read:email write:orders' });
  });
  afterAll(async () => ctx?.server.close());

  it('refuses an unknown query with 400 PERSISTED_QUERY_NOT_IN_LIST, issuing no SQL statement', async () => {
    ctx.statements.length = 0;
    const r = await post(ctx.server, { query: UNKNOWN }, reader);
    expect(r.status).toBe(400);
    expect(codeOf(r.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(r.body.data).toBeUndefined();
    expect(ctx.statements).toEqual([]);
  });

  it('refuses an unknown mutation before it executes: no statement, no order', async () => {
    const orders = async () => Number((await ctx.server.database.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await orders();
    ctx.statements.length = 0;
    const r = await post(ctx.server, { query: PLACE_UNKNOWN }, reader);
    expect(r.status).toBe(400);
    expect(codeOf(r.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(ctx.statements).toEqual([]);
    expect(await orders()).toBe(before);
  });

  it('refuses an unknown query sent by GET too', async () => {
    const r = await get(ctx.server, { query: UNKNOWN }, reader);
    expect(r.status).toBe(400);
    expect(codeOf(r.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('runs a manifest operation sent as its body, by POST and by GET', async () => {
    const posted = await post(ctx.server, { query: ME.body }, reader);
    expect(posted).toEqual({ status: 200, body: { data: { me: { displayName: 'Eve' } } } });
    const got = await get(ctx.server, { query: CATALOG.body, variables: { n: 1 } });
    expect(got.status).toBe(200);
    expect(got.body.data?.['products']).toEqual({ edges: [{ node: expect.objectContaining({ name: expect.any(String) }) }] });
  });

  it('runs a manifest operation sent as its id alone (extensions.persistedQuery), by POST and by GET', async () => {
    const posted = await post(ctx.server, { ...byHash(ME.id) }, reader);
    expect(posted).toEqual({ status: 200, body: { data: { me: { displayName: 'Eve' } } } });
    const got = await get(ctx.server, { operationName: 'Catalog', variables: { n: 2 }, ...byHash(CATALOG.id) });
    expect(got.status).toBe(200);
    expect((got.body.data?.['products'] as { edges: unknown[] }).edges).toHaveLength(2);
  });

  it('still applies authorization to a manifest operation', async () => {
    const r = await post(ctx.server, { ...byHash(ME.id) });
    expect(r.status).toBe(401);
    expect(codeOf(r.body)).toBe('UNAUTHENTICATED');
  });

  it('answers an unknown id PERSISTED_QUERY_NOT_FOUND, and never registers an unknown document sent with its hash', async () => {
    expect(codeOf((await post(ctx.server, byHash(sha256(UNKNOWN)), reader)).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(ctx.server, { query: UNKNOWN, ...byHash(sha256(UNKNOWN)) }, reader);
    expect(register.status).toBe(400);
    expect(codeOf(register.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(codeOf((await post(ctx.server, byHash(sha256(UNKNOWN)), reader)).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('lets a token with the bypass scope send any document, and still does not register it', async () => {
    const internal = await ctx.server.devIssuer!.sign({ sub: 'internal-tool', name: 'Tool', scope: 'read:profile internal:any-operation' });
    const r = await post(ctx.server, { query: UNKNOWN }, internal);
    expect(r).toEqual({ status: 200, body: { data: { me: { displayName: 'Tool', email: null } }, errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })] } });
    await post(ctx.server, { query: UNKNOWN, ...byHash(sha256(UNKNOWN)) }, internal);
    expect(codeOf((await post(ctx.server, byHash(sha256(UNKNOWN)), internal)).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('trusted documents: start-up', () => {
  it('fails naming a manifest operation that no longer validates against the schema', async () => {
    const stale = manifestEntry('OldProfile', 'query', 'query OldProfile { me { nickname } }');
    const file = writeManifest([ME, stale]);
    const failure = startHttpServer({ PERSISTED_DOCUMENTS_FILE: file, PERSISTED_DOCUMENTS_MODE: 'enforce' });
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toMatchObject({ variable: 'PERSISTED_DOCUMENTS_FILE', index: 1, message: expect.stringContaining('"OldProfile"') });
    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining(stale.id.slice(0, 12)) });
    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining('nickname') });
  });
});
