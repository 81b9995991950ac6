import { type OrderChange, type ProductChange, orderChangeFilter, productChangeFilter } from '../../domain/orders/order-events.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { LiveEvents, RequestContext } from '../context.js';
import type { OrderEventResolvers, SubscriptionResolvers } from '../generated/resolvers-types.js';
import { expectGlobalId } from '../global-id.js';

function liveOf(context: RequestContext): LiveEvents {
  if (context.live === undefined) throw new AppError(ErrorCode.BAD_REQUEST, 'Subscriptions are served over WebSocket (graphql-transport-ws) on /graphql');
  return context.live;
}

/**
 * Each root field opens a stream of committed changes filtered by the domain's ownership rule,
 * decided when subscribing (another customer's change is never queued); each event is then
 * executed like a query, with a fresh context, through the same field guards.
 */
export const subscriptions: SubscriptionResolvers = {
  orderEvents: {
    subscribe: async (_parent, _args, context) => {
      const live = liveOf(context);
      const accept = await orderChangeFilter(context.deps, context.principal, null);
      return live.hub.watch({ accept, maxQueued: live.maxQueuedEvents, onOverflow: live.onOverflow });
    },
    resolve: (change: OrderChange) => change,
  },
  orderUpdated: {
    subscribe: async (_parent, { id }, context) => {
      const live = liveOf(context);
      const accept = await orderChangeFilter(context.deps, context.principal, expectGlobalId(id, 'Order', 'id'));
      return live.hub.watch({ accept, maxQueued: live.maxQueuedEvents, onOverflow: live.onOverflow });
    },
    resolve: (change: OrderChange) => change.order,
  },
  productChanged: {
    subscribe: (_parent, { id }, context) => {
      const live = liveOf(context);
      const accept = productChangeFilter(id == null ? null : expectGlobalId(id, 'Product', 'id'));
      return live.hub.watch({ accept, maxQueued: live.maxQueuedEvents, onOverflow: live.onOverflow });
    },
    resolve: async (change: ProductChange, _args: unknown, { deps }: RequestContext) => {
      const product = await deps.loaders.productById.load(change.productId);
      if (product === null) throw new Error(`changed product ${change.productId} is missing`);
      return product;
    },
  },
};

export const OrderEvent: OrderEventResolvers = {
  order: (change) => change.order,
  status: (change) => change.order.status,
  previousStatus: (change) => change.previousStatus,
};
