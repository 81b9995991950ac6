import type { UserPrincipal } from '../../auth/principal.js';
import { formatMinorUnits } from '../../domain/money.js';
import { cancelOrder, getOrder, getOrderCustomer, getOrderItems, listOrders, placeOrder, updateOrderStatus } from '../../domain/orders/order-service.js';
import { ForbiddenError } from '../../errors.js';
import type { RequestContext } from '../context.js';
import type { MutationResolvers, OrderItemResolvers, OrderResolvers, PlaceOrderPayloadResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { expectGlobalId, toGlobalId } from '../global-id.js';

/** `@requiresUser` has already refused client tokens; this narrows the type for the domain. */
function userOf(context: RequestContext): UserPrincipal {
  if (context.principal.kind !== 'user') throw new ForbiddenError('user_required', 'This field requires a token issued for a user');
  return context.principal;
}

export const orderQueries: Pick<QueryResolvers, 'order' | 'orders'> = {
  order: (_parent, { id }, { deps, principal }) => getOrder(deps, principal, expectGlobalId(id, 'Order', 'id')),
  orders: (_parent, { customerId, ...page }, { deps, principal }) =>
    listOrders(deps, principal, { ...page, customerId: customerId == null ? null : expectGlobalId(customerId, 'Profile', 'customerId') }),
};

export const orderMutations: Pick<MutationResolvers, 'placeOrder' | 'cancelOrder' | 'updateOrderStatus'> = {
  placeOrder: (_parent, { input }, context) =>
    placeOrder(context.deps, userOf(context), {
      items: input.items.map((item, i) => ({ productId: expectGlobalId(item.productId, 'Product', `input.items[${i}].productId`), quantity: item.quantity })),
      idempotencyKey: input.idempotencyKey ?? null,
    }),
  cancelOrder: (_parent, { id }, context) => cancelOrder(context.deps, userOf(context), expectGlobalId(id, 'Order', 'id')),
  updateOrderStatus: (_parent, { id, status }, { deps, principal }) => updateOrderStatus(deps, principal, expectGlobalId(id, 'Order', 'id'), status),
};

export const PlaceOrderPayload: PlaceOrderPayloadResolvers = {
  orderId: (payload) => toGlobalId('Order', payload.order.id),
  order: (payload) => payload.order,
};

export const Order: OrderResolvers = {
  id: (o) => toGlobalId('Order', o.id),
  placedAt: (o) => o.placed_at,
  items: (o, _args, { deps }) => getOrderItems(deps, o),
  total: (o) => formatMinorUnits(o.total_minor, o.currency),
  customer: (o, _args, { deps, principal }) => getOrderCustomer(deps, principal, o),
};

export const OrderItem: OrderItemResolvers = {
  product: async (item, _args, { deps }) => {
    const product = await deps.loaders.productById.load(item.product_id);
    if (product === null) throw new Error(`an item of order ${item.order_id} references missing product ${item.product_id}`);
    return product;
  },
  unitPrice: (item) => formatMinorUnits(item.unit_price_minor, item.currency),
};
