import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { OperationTypeLabel } from '../lib/metrics.js';
import type { RequestObserver } from '../lib/request-observer.js';

interface ObservedContext {
  readonly observer: RequestObserver;
}

/**
 * Tells the request's observer which operation it is (type and name, once resolved) and how its
 * result ended, for the request metric and span. Runs under both executors: graphql-jit answers
 * from `responseForOperation`, after `didResolveOperation`, and its responses pass `willSendResponse`.
 */
export function operationTelemetryPlugin<TContext extends ObservedContext>(): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation(rc) {
      rc.contextValue.observer.operation((rc.operation?.operation ?? 'unknown') as OperationTypeLabel, rc.operationName ?? undefined);
    },
    async willSendResponse(rc) {
      const { body } = rc.response;
      if (body.kind === 'single') {
        const result = body.singleResult;
        rc.contextValue.observer.result((result.errors?.length ?? 0) > 0, result.data !== undefined && result.data !== null);
      } else {
        rc.contextValue.observer.result(false, true);
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
