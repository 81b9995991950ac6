import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { AppError, ErrorCode } from '../../errors.js';

/**
 * A subscription sent over HTTP is refused with 400 `BAD_REQUEST` before anything runs: this
 * server serves subscriptions over WebSocket (`graphql-transport-ws`) on the same path only.
 */
export function subscriptionsOverHttpPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation(rc) {
      if (rc.operation?.operation !== 'subscription') return;
      throw new AppError(ErrorCode.BAD_REQUEST, 'Subscriptions are served over WebSocket (subprotocol graphql-transport-ws) on this path, not over HTTP', { http: { status: 400 } });
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
