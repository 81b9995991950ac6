import { describe, expect, it } from '@jest/globals';
import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import Fastify, { type FastifyRequest } from 'fastify';

import { apolloHandler, toGraphQLRequest } from '../../../src/http/apollo-handler.js';

const request = (fields: { method?: string; url: string; headers: Record<string, string | string[] | undefined>; body?: unknown }) =>
  ({ method: fields.method ?? 'POST', url: fields.url, raw: { url: fields.url }, headers: fields.headers, body: fields.body }) as unknown as FastifyRequest;

describe('toGraphQLRequest', () => {
  it('passes method, body and headers, joining repeated values and leaving out empty ones', () => {
    const body = { query: '{ products { edges { node { id } } } }' };
    const r = toGraphQLRequest(request({ method: 'post', url: '/graphql', headers: { 'content-type': 'application/json', 'x-many': ['a', 'b'], 'x-empty': '', 'x-none': undefined }, body }));
    expect(r.method).toBe('POST');
    expect(r.body).toBe(body);
    expect([...r.headers]).toEqual([
      ['content-type', 'application/json'],
      ['x-many', 'a, b'],
    ]);
  });

  it('keeps the query string exactly as received, or none', () => {
    expect(toGraphQLRequest(request({ method: 'GET', url: '/graphql?query=%7B%20me%20%7D&x=1', headers: {} })).search).toBe('?query=%7B%20me%20%7D&x=1');
    expect(toGraphQLRequest(request({ url: '/graphql', headers: {} })).search).toBe('');
  });
});

describe('apolloHandler', () => {
  /** An Apollo Server stand-in that answers every request with `response`. */
  const answering = (response: HTTPGraphQLResponse) =>
    ({ assertStarted: () => undefined, executeHTTPGraphQLRequest: async () => response }) as unknown as ApolloServer<BaseContext>;

  const serve = async (response: HTTPGraphQLResponse, headers: Record<string, string> = {}) => {
    const app = Fastify({ logger: false });
    app.route({ url: '/graphql', method: ['GET', 'POST'], handler: apolloHandler(answering(response), async () => ({})) });
    const reply = await app.inject({ method: 'POST', url: '/graphql', headers, payload: { query: '{ x }' } });
    await app.close();
    return reply;
  };

  it('sends a complete body with Apollo’s status and headers', async () => {
    const reply = await serve({ status: 403, headers: new HeaderMap([['content-type', 'application/json; charset=utf-8'], ['www-authenticate', 'Bearer error="insufficient_scope"']]), body: { kind: 'complete', string: '{"errors":[]}' } });
    expect(reply.statusCode).toBe(403);
    expect(reply.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(reply.body).toBe('{"errors":[]}');
  });

  it('streams a chunked body (incremental delivery) part by part, status 200 by default', async () => {
    async function* parts() {
      yield '--graphql\r\n{"data":{}}';
      yield '\r\n--graphql--\r\n';
    }
    const reply = await serve({ headers: new HeaderMap([['content-type', 'multipart/mixed; boundary="graphql"']]), body: { kind: 'chunked', asyncIterator: parts() } });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toBe('multipart/mixed; boundary="graphql"');
    expect(reply.body).toBe('--graphql\r\n{"data":{}}\r\n--graphql--\r\n');
  });

  // @as-integrations/fastify builds `new URL(url, protocol://hostname)` and answers 500 ERR_INVALID_URL.
  it.each(['a b', 'exa[mple', '%zz'])('answers normally whatever the Host header holds (%s)', async (host) => {
    const reply = await serve({ status: 200, headers: new HeaderMap(), body: { kind: 'complete', string: '{"data":{}}' } }, { host });
    expect(reply.statusCode).toBe(200);
    expect(reply.body).toBe('{"data":{}}');
  });
});
