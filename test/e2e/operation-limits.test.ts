import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

/** 31 fragments on Query, each selecting products and spreading the next one twice (the fan-out). */
export function fragmentFanOut(levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) =>
    i === levels - 1 ? `fragment F${i} on Query { products(first: 1) { edges { node { id } } } }` : `fragment F${i} on Query { products(first: 1) { edges { node { id } } } ...F${i + 1} ...F${i + 1} }`,
  );
  return `{ ...F0 } ${fragments.join(' ')}`;
}

/** `Order.customer → Profile.orders` nested `levels` times. */
export function deepCycle(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `orders(first: 1) { edges { node { customer { ${inner} } } } }`;
  return `{ me { ${inner} } }`;
}

export function aliasFlood(count: number, selection: string): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;
}

type Body = { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; extensions?: Record<string, unknown> };

describe('operation limits (enforce, the default)', () => {
  let server: TestHttpServer;
  let token: string;
  const statements: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const post = async (query: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query }) });
    return { status: r.status, body: (await r.json()) as Body };
  };

  beforeAll(async () => {
    server = await startHttpServer({}, { onQuery: (sql) => statements.push(sql), logger: { level: 'info', stream: { write: (line) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } } });
    token = await server.devIssuer!.sign({ sub: 'limits-user', scope: 'read:profile read:orders read:email admin:orders' });
  });
  afterAll(async () => server?.close());

  const refused = async (query: string, code: string) => {
    statements.length = 0;
    const r = await post(query);
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code, limit: expect.any(Number), measured: expect.any(Number) });
    expect(r.body.errors![0]!.extensions!['measured'] as number).toBeGreaterThan(r.body.errors![0]!.extensions!['limit'] as number);
    // Nothing executed: not one SQL statement (the catalog cache's version read included).
    expect(statements).toEqual([]);
    return r.body.errors![0]!.extensions!;
  };

  it('refuses the fragment fan-out (31 levels, each spreading the next twice): 2^31 selections once spreads are expanded', async () => {
    const e = await refused(fragmentFanOut(31), 'TOO_MANY_SELECTIONS');
    expect(e).toMatchObject({ limit: 5000, measured: 4 * (2 ** 31 - 1) });
  });

  it('answers a small fan-out (graphql-js merges the spreads): 5 levels run', async () => {
    const r = await post(fragmentFanOut(5));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('refuses a query nested forty levels deep through Order.customer → Profile.orders', async () => {
    const e = await refused(deepCycle(40), 'OPERATION_TOO_DEEP');
    expect(e).toMatchObject({ limit: 12, measured: 2 + 40 * 4 });
  });

  it('counts depth through a fragment named __schema (no introspection dodge)', async () => {
    let inner = 'id';
    for (let i = 0; i < 4; i++) inner = `orders(first: 1) { edges { node { customer { ${inner} } } } }`;
    await refused(`{ me { ...__schema } } fragment __schema on Profile { ${inner} }`, 'OPERATION_TOO_DEEP');
  });

  it('refuses 10,000 aliases of me { orders(first: 100) } and 50,000 __typename aliases (aliases counted)', async () => {
    await refused(aliasFlood(10_000, 'me { orders(first: 100) { edges { node { id } } } }'), 'DOCUMENT_TOO_LARGE');
    // Under the token limit, aliases are what stops it.
    await refused(aliasFlood(300, '__typename'), 'TOO_MANY_ALIASES');
    await refused(aliasFlood(50_000, '__typename'), 'DOCUMENT_TOO_LARGE');
  });

  it('refuses a costly alias flood that fits the alias limit by its cost', async () => {
    await refused(aliasFlood(90, 'me { orders(first: 100) { edges { node { items { product { name } } } } } }'), 'OPERATION_TOO_COMPLEX');
  });

  it('refuses a directive flood before it is parsed (token limit) and a document of 20,000 spreads', async () => {
    await refused(`{ __typename ${'@include(if: true) '.repeat(2000)} }`, 'DOCUMENT_TOO_LARGE');
    await refused(`{ ...F ${'...F @include(if: true) '.repeat(20_000)} } fragment F on Query { __typename }`, 'DOCUMENT_TOO_LARGE');
    await refused(`${Array.from({ length: 25_000 }, (_, i) => `query Q${i} { __typename }`).join(' ')}`, 'DOCUMENT_TOO_LARGE');
  });

  it('uses the actual value of first: $n for the cost', async () => {
    const q = 'query Q($n: Int) { me { orders(first: $n) { edges { node { items { product { name } } } } } } }';
    const send = async (n: number) => {
      const r = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-graphql-cost': 'true' }, body: JSON.stringify({ query: q, variables: { n } }) });
      return { status: r.status, body: (await r.json()) as Body };
    };
    const small = await send(2);
    expect(small.status).toBe(200);
    // me 1 + connection 1 + 2 × (edge 1 + order 1 + 50 assumed items × (item 1 + product 1))
    expect(small.body.extensions?.['cost']).toMatchObject({ estimated: 1 + 1 + 2 * (1 + 1 + 50 * 2), limit: 25_000 });
    const large = await send(1000);
    expect(large.status).toBe(400);
    expect(large.body.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', measured: 1 + 1 + 1000 * (1 + 1 + 50 * 2) });
  });

  it('carries the cost in extensions only when the client asks for it', async () => {
    const q = '{ me { displayName } }';
    expect((await post(q)).body.extensions).toBeUndefined();
    expect((await post(q, { 'x-graphql-cost': 'true' })).body.extensions).toEqual({ cost: { estimated: 1, limit: 25_000, depth: 2, aliases: 0, rootFields: 1 } });
  });

  it("never stores the cost in the catalog cache's entries", async () => {
    const q = '{ products(first: 2) { edges { node { id } } } }';
    const anon = (headers: Record<string, string>) => fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: q }) }).then(async (r) => ({ hit: r.headers.get('x-catalog-cache') === 'hit', body: (await r.json()) as Body }));
    await anon({ 'x-graphql-cost': 'true' });
    const hit = await anon({});
    expect(hit.hit).toBe(true);
    expect(hit.body.extensions).toBeUndefined();
  });

  it("lets Sandbox's full introspection query through", async () => {
    const q = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    const r = await post(q);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('refuses introspection nested deeper in lists than Sandbox needs, and many __schema aliases', async () => {
    // Four nested lists that graphql-js's own introspection depth rule (fields/interfaces/possibleTypes) lets through.
    const e = await refused('{ __schema { types { fields { args { type { enumValues { name } } } } } } }', 'INTROSPECTION_TOO_COMPLEX');
    expect(e).toMatchObject({ limit: 3, measured: 4 });
    await refused(aliasFlood(5, '__schema { queryType { name } }'), 'INTROSPECTION_TOO_COMPLEX');
  });

  it('logs one line per refusal with the measured values and the operation name, never the token', async () => {
    logLines.length = 0;
    await refused(`query Deep ${deepCycle(20).slice(1)}`.replace('query Deep  me', 'query Deep { me'), 'OPERATION_TOO_DEEP');
    const lines = logLines.filter((l) => l['event'] === 'limits.refused');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ operationName: 'Deep', exceeded: ['maxDepth'], depth: 82 });
    expect(JSON.stringify(logLines)).not.toContain(token);
  });
});

describe('operation limits configured by environment variables', () => {
  it('GRAPHQL_MAX_DEPTH and GRAPHQL_MAX_COST move the bounds', async () => {
    const server = await startHttpServer({ GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_COST: '5' });
    try {
      const r1 = await server.graphql('{ products(first: 1) { edges { node { id } } } }');
      expect(r1.status).toBe(400);
      expect(r1.body.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_DEEP', limit: 3, measured: 4 });
      // products 1 + 10 edges × 1
      const r2 = await server.graphql('{ products(first: 10) { edges { cursor } } }');
      expect(r2.body.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 5, measured: 11 });
      expect((await server.graphql('{ products(first: 4) { edges { cursor } } }')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('GRAPHQL_MAX_ROOT_FIELDS, GRAPHQL_MAX_DIRECTIVES, GRAPHQL_MAX_ALIASES and GRAPHQL_INTROSPECTION_MAX_DEPTH move their bounds, and a refusal lists every limit exceeded', async () => {
    const server = await startHttpServer({ GRAPHQL_MAX_ROOT_FIELDS: '2', GRAPHQL_MAX_DIRECTIVES: '1', GRAPHQL_MAX_ALIASES: '1', GRAPHQL_INTROSPECTION_MAX_DEPTH: '3' });
    try {
      const code = async (query: string) => (await server.graphql(query)).body.errors?.[0]?.extensions;
      expect(await code('{ __typename products(first: 1) { pageInfo { hasNextPage } } product(id: "x") { id } }')).toMatchObject({ code: 'TOO_MANY_ROOT_FIELDS', limit: 2, measured: 3 });
      expect(await code('{ products(first: 1) @include(if: true) @skip(if: false) { pageInfo { hasNextPage } } }')).toMatchObject({ code: 'TOO_MANY_DIRECTIVES', limit: 1, measured: 2 });
      expect(await code('{ a: __typename b: __typename }')).toMatchObject({ code: 'TOO_MANY_ALIASES', limit: 1, measured: 2 });
      expect(await code('{ __schema { types { fields { name } } } }')).toMatchObject({ code: 'INTROSPECTION_TOO_COMPLEX', limit: 3, measured: 4 });
      expect((await server.graphql('{ __schema { queryType { name } } }')).status).toBe(200);
      expect(await code('{ a: __typename b: __typename c: __typename }')).toMatchObject({
        code: 'TOO_MANY_ALIASES',
        exceeded: [
          { code: 'TOO_MANY_ALIASES', limit: 1, measured: 3 },
          { code: 'TOO_MANY_ROOT_FIELDS', limit: 2, measured: 3 },
        ],
      });
    } finally {
      await server.close();
    }
  });

  it('GRAPHQL_MAX_TOKENS refuses a larger document before parsing it', async () => {
    const server = await startHttpServer({ GRAPHQL_MAX_TOKENS: '20' });
    try {
      const r = await server.graphql(`{ ${'__typename '.repeat(30)} }`);
      expect(r.status).toBe(400);
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'DOCUMENT_TOO_LARGE', limit: 20 });
    } finally {
      await server.close();
    }
  });
});

describe('operation limits in measure mode', () => {
  it('runs an operation over a limit and logs one warn line with what would have been refused', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const server = await startHttpServer({ GRAPHQL_LIMITS_MODE: 'measure', GRAPHQL_MAX_DEPTH: '3' }, { logger: { level: 'info', stream: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } } });
    try {
      const r = await server.graphql('query Catalog { products(first: 1) { edges { node { id } } } }');
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
      const measured = lines.filter((l) => l['event'] === 'limits.would_refuse');
      expect(measured).toHaveLength(1);
      expect(measured[0]).toMatchObject({ level: 40, operationName: 'Catalog', exceeded: ['maxDepth'], depth: 4, cost: 3 });
    } finally {
      await server.close();
    }
  });
});
