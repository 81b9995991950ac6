import type { ApolloServer } from '@apollo/server';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { HttpLimits } from '../config.js';
import type { RequestContext } from '../graphql/context.js';
import { apolloHandler } from './apollo-handler.js';
import { type GraphqlRequestLimitsOptions, graphqlRequestLimits } from './graphql-request-limits.js';
import { graphqlBodyLimitErrorHandler } from './http-limits.js';
import type { RequestTelemetry } from './request-telemetry.js';

/** Options of {@link graphqlRoute}. */
export interface GraphqlRouteOptions {
  /** Started. */
  readonly apollo: ApolloServer<RequestContext>;
  /** Builds each request's context (and authenticates it, {@link authenticatedContext}). */
  readonly context: (request: FastifyRequest) => Promise<RequestContext>;
  /** Batch size and document size, checked before Apollo sees the request. */
  readonly limits: GraphqlRequestLimitsOptions;
  /** The body limit, answered as a GraphQL error. */
  readonly http: HttpLimits;
  /** The request metric and span. Default: none. */
  readonly telemetry?: RequestTelemetry;
}

/** `/graphql` (GET, POST, OPTIONS) served by Apollo Server. */
export const graphqlRoute: FastifyPluginAsync<GraphqlRouteOptions> = async (app, options) => {
  const { telemetry } = options;
  const handler = apolloHandler(options.apollo, options.context);
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    ...(telemetry ? { onRequest: telemetry.onRequest, onResponse: telemetry.onResponse } : {}),
    preHandler: graphqlRequestLimits(options.limits),
    handler: telemetry ? telemetry.wrap(handler) : handler,
    errorHandler: graphqlBodyLimitErrorHandler(options.http),
  });
};
