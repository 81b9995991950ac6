import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

/**
 * A request the server cannot run as sent is answered 400 with a message saying why and the
 * standard Apollo Server code, never 500 — whether it carries a token or not (the authorization
 * plugin, the catalog response cache and the executor all see such requests).
 */
describe('GraphQL request errors', () => {
  let server: TestHttpServer;
  let token: string;

  beforeAll(async () => {
    server = await startHttpServer({});
    token = await server.devIssuer!.sign({ sub: 'request-errors', scope: 'read:profile read:orders' });
  });
  afterAll(async () => server?.close());

  const post = async (body: string, withToken: boolean) => {
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(withToken ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
    const text = await r.text();
    return { status: r.status, body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
  };

  const TWO_OPERATIONS = 'query A { products(first: 1) { edges { node { id } } } } query B { products(first: 2) { edges { node { id } } } }';
  const cases: Array<[string, string, string | RegExp, Record<string, unknown>]> = [
    ['an operation name the document does not define', 'OPERATION_RESOLUTION_FAILURE', 'Unknown operation named "C".', { query: TWO_OPERATIONS, operationName: 'C' }],
    ['several operations and no operation name', 'OPERATION_RESOLUTION_FAILURE', 'Must provide operation name if query contains multiple operations.', { query: TWO_OPERATIONS }],
    ['a syntax error', 'GRAPHQL_PARSE_FAILED', /^Syntax Error/, { query: '{ products(first: 1) { edges ' }],
    ['a field the schema does not have', 'GRAPHQL_VALIDATION_FAILED', /^Cannot query field "nope" on type "Query"/, { query: '{ nope }' }],
    ['a variable of the wrong type', 'BAD_USER_INPUT', /^Variable "\$n" got invalid value "many"/, { query: 'query Q($n: Int) { products(first: $n) { edges { node { id } } } }', variables: { n: 'many' } }],
    ['no query', 'BAD_REQUEST', /non-empty `query`/, { variables: {} }],
  ];

  for (const withToken of [false, true]) {
    describe(withToken ? 'with a token' : 'anonymous', () => {
      it.each(cases)('%s → 400 %s', async (_name, code, message, request) => {
        const { status, body } = await post(JSON.stringify(request), withToken);
        expect(status).toBe(400);
        expect(body.data).toBeUndefined();
        expect(body.errors).toHaveLength(1);
        expect(body.errors![0]!.extensions?.code).toBe(code);
        if (typeof message === 'string') expect(body.errors![0]!.message).toBe(message);
        else expect(body.errors![0]!.message).toMatch(message);
      });
    });
  }

  it('answers the named operation of several', async () => {
    const { status, body } = await post(JSON.stringify({ query: TWO_OPERATIONS, operationName: 'B' }), true);
    expect(status).toBe(200);
    expect((body.data as { products: { edges: unknown[] } }).products.edges).toHaveLength(2);
  });

  it('a body that is not JSON → 400, not 500', async () => {
    const { status } = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{ "query": ' }).then((r) => ({ status: r.status }));
    expect(status).toBe(400);
  });
});
