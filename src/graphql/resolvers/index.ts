import type { Resolvers } from '../generated/resolvers-types.js';
import { Product, catalogQueries } from './catalog-resolvers.js';
import { DateTimeScalar } from './date-time-scalar.js';
import { Node, nodeQueries } from './node-resolvers.js';
import { Order, OrderItem, PlaceOrderPayload, orderMutations, orderQueries } from './order-resolvers.js';
import { Profile, profileMutations, profileQueries } from './profile-resolvers.js';
import { OrderEvent, subscriptions } from './subscription-resolvers.js';

/** Every resolver, by feature. Scope rules live in the schema; ownership rules in the domain. */
export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: { ...nodeQueries, ...catalogQueries, ...profileQueries, ...orderQueries },
  Mutation: { ...profileMutations, ...orderMutations },
  Subscription: subscriptions,
  Node,
  Product,
  Profile,
  Order,
  OrderItem,
  PlaceOrderPayload,
  OrderEvent,
};
