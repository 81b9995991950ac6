import { Readable } from 'node:stream';

import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { ErrorCode } from '../errors.js';
import { hasOversizedDocument } from '../graphql/document-size.js';
import { graphqlErrorBody } from './graphql-error-body.js';

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

/** Options for {@link apolloHandler}. */
export interface ApolloHandlerOptions {
  /**
   * Most operations in one batched request (a JSON array body). A larger batch is answered 400
   * `BATCH_LIMIT_EXCEEDED` before Apollo sees it. 0 (default): batching is off, and Apollo refuses
   * every batch with 400 `BAD_REQUEST`.
   */
  readonly batchMax?: number;
  /**
   * Largest document in lexical tokens: a request holding a larger one is answered 400
   * `DOCUMENT_TOO_LARGE` before it is parsed or its token verified. Default: no bound here
   * (Apollo's parser still applies its own `maxTokens`).
   */
  readonly maxTokens?: number;
}

/**
 * The Fastify route handler for Apollo Server, doing what `@as-integrations/fastify`'s handler does
 * (status, headers, a complete or streamed body) with the request conversion above.
 */
export function apolloHandler<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  context: (request: FastifyRequest, reply: FastifyReply) => Promise<TContext>,
  options: ApolloHandlerOptions = {},
): RouteHandlerMethod {
  apollo.assertStarted('apolloHandler()');
  const batchMax = options.batchMax ?? 0;
  const { maxTokens } = options;
  return async (request, reply) => {
    // Apollo runs every operation of a batch at once: the bound holds before any of them starts.
    if (batchMax > 0 && Array.isArray(request.body) && request.body.length > batchMax) {
      const received = request.body.length;
      void reply.code(400).type('application/json; charset=utf-8');
      return graphqlErrorBody(ErrorCode.BATCH_LIMIT_EXCEEDED, `A batch may hold at most ${batchMax} operations; this one holds ${received}.`, { limit: batchMax, received });
    }
    if (maxTokens !== undefined && hasOversizedDocument(request, maxTokens)) {
      void reply.code(400).type('application/json; charset=utf-8');
      // Lexing stops at the limit: `measured` is the first token over it.
      return graphqlErrorBody(ErrorCode.DOCUMENT_TOO_LARGE, `The document has more than ${maxTokens} tokens.`, { limit: maxTokens, measured: maxTokens + 1 });
    }
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: toGraphQLRequest(request), context: () => context(request, reply) });
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') return response.body.string;
    return reply.send(Readable.from(response.body.asyncIterator));
  };
}
