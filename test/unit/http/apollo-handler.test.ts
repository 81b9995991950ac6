import { describe, expect, it } from '@jest/globals';
import type { FastifyRequest } from 'fastify';

import { toGraphQLRequest } from '../../../src/http/apollo-handler.js';

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
