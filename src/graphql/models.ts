import type { OrderItemRow, OrderRow, ProductRow, ProfileRow } from '../db/database-schema.js';
import type { OrderChange } from '../domain/orders/order-events.js';
import type { Connection } from '../domain/pagination.js';

/** What resolvers of each GraphQL type receive as their parent: the repositories' plain rows. */
export type ProductModel = ProductRow;
export type ProfileModel = ProfileRow;
export type OrderModel = OrderRow;
export type OrderItemModel = OrderItemRow;
export type ProductConnectionModel = Connection<ProductRow>;
export type ProductEdgeModel = Connection<ProductRow>['edges'][number];
export type OrderConnectionModel = Connection<OrderRow>;
export type OrderEdgeModel = Connection<OrderRow>['edges'][number];
export interface PlaceOrderPayloadModel {
  readonly order: OrderRow;
}
export interface MoneyModel {
  readonly amount: string;
  readonly currency: string;
}
/** `OrderEvent`: the committed change as the feed delivered it. */
export type OrderEventModel = OrderChange;
