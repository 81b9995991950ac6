import type { Server, ServerOptions } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { graphqlErrorBody } from './graphql-error-body.js';

/** The members of Fastify's options that {@link httpServerOptions} sets. */
export interface HttpServerOptions {
  readonly bodyLimit: number;
  readonly connectionTimeout: number;
  readonly keepAliveTimeout: number;
  readonly requestTimeout: number;
  /** Passed to `http.createServer`. */
  readonly http: ServerOptions;
}

/**
 * Fastify's and Node's options for {@link HttpLimits}: deadlines for a request's headers, for the
 * whole request and for a silent connection, the keep-alive idle time, and the body and header
 * sizes. Without them Fastify waits for a request's body forever (its `requestTimeout` is 0).
 */
export function httpServerOptions(limits: HttpLimits): HttpServerOptions {
  return {
    bodyLimit: limits.bodyLimitBytes,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the two deadlines on this interval (default 30 s, which would let a 10 s
      // deadline run to 40 s): a quarter of the shorter one, at most a second.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4))),
    },
  };
}

/** The connection cap, set on the listening server (Fastify has no option for it). */
export function applyConnectionLimit(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
}

/**
 * A route error handler for the GraphQL endpoint: a body over the limit is answered 413 with a
 * GraphQL error (`PAYLOAD_TOO_LARGE`, with the limit) instead of Fastify's own shape; every other
 * error goes on to Fastify's handler.
 */
export function graphqlBodyLimitErrorHandler(limits: HttpLimits) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
    return reply
      .code(413)
      .type('application/json; charset=utf-8')
      .send(graphqlErrorBody(ErrorCode.PAYLOAD_TOO_LARGE, `The request body is larger than the limit of ${limits.bodyLimitBytes} bytes.`, { limit: limits.bodyLimitBytes }));
  };
}
