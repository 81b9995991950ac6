import { Readable } from 'node:stream';

import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';

/**
 * Apollo's view of a Fastify request: the parsed body, the method, the headers (a repeated header
 * joined with ", ", as Node does for most) and the query string as received. Read straight from
 * Node's request line, without building a URL object or resolving the host name per request.
 */
export function toGraphQLRequest(request: FastifyRequest): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  const raw = request.headers;
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined || value === '') continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = request.raw.url ?? request.url;
  const question = url.indexOf('?');
  return { method: request.method.toUpperCase(), headers, search: question === -1 ? '' : url.slice(question), body: request.body };
}

/**
 * The Fastify route handler for Apollo Server, doing what `@as-integrations/fastify`'s handler does
 * (status, headers, a complete or streamed body) with the request conversion above. Kept for
 * correctness, not speed: the library builds `new URL(request.url, protocol://hostname)`, which
 * throws on a Host header that is not a valid host (`a b`, `x[y`, an empty one), so a
 * client-chosen header becomes a 500 and an error log line. Speed is within the noise
 * (docs/BENCHMARKS.md, `bench/apollo-handler-bench.ts`).
 */
export function apolloHandler<TContext extends BaseContext>(apollo: ApolloServer<TContext>, context: (request: FastifyRequest, reply: FastifyReply) => Promise<TContext>): RouteHandlerMethod {
  apollo.assertStarted('apolloHandler()');
  return async (request, reply) => {
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: toGraphQLRequest(request), context: () => context(request, reply) });
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') return response.body.string;
    return reply.send(Readable.from(response.body.asyncIterator));
  };
}
