import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../errors.js';
import { hasOversizedDocument } from '../graphql/document-size.js';
import { graphqlErrorBody } from './graphql-error-body.js';

/** Options for {@link graphqlRequestLimits}. */
export interface GraphqlRequestLimitsOptions {
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
 * A `preHandler` for the GraphQL route: the bounds Apollo cannot apply itself, checked on the
 * parsed body before Apollo (and so authentication) sees the request.
 */
export function graphqlRequestLimits(options: GraphqlRequestLimitsOptions) {
  const batchMax = options.batchMax ?? 0;
  const { maxTokens } = options;
  // Answering from an async hook: send, then return the reply (Fastify's documented pattern).
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // Apollo runs every operation of a batch at once: the bound holds before any of them starts.
    if (batchMax > 0 && Array.isArray(request.body) && request.body.length > batchMax) {
      const received = request.body.length;
      return refuse(reply, graphqlErrorBody(ErrorCode.BATCH_LIMIT_EXCEEDED, `A batch may hold at most ${batchMax} operations; this one holds ${received}.`, { limit: batchMax, received }));
    }
    if (maxTokens !== undefined && hasOversizedDocument(request, maxTokens)) {
      // Lexing stops at the limit: `measured` is the first token over it.
      return refuse(reply, graphqlErrorBody(ErrorCode.DOCUMENT_TOO_LARGE, `The document has more than ${maxTokens} tokens.`, { limit: maxTokens, measured: maxTokens + 1 }));
    }
    return undefined;
  };
}

function refuse(reply: FastifyReply, body: string): FastifyReply {
  return reply.code(400).type('application/json; charset=utf-8').send(body);
}
