import type { OrderChange } from '../domain/orders/order-events.js';
import type { ProductView } from '../domain/catalog/product-repository.js';
import type { OrderItemView, OrderView } from '../domain/orders/order-repository.js';
import type { Connection } from '../domain/pagination.js';
import type { ProfileView } from '../domain/profile/profile-repository.js';

/** What resolvers of each GraphQL type receive as their parent: the repositories' plain rows, with the columns the read paths select. */
export type ProductModel = ProductView;
export type ProfileModel = ProfileView;
export type OrderModel = OrderView;
export type OrderItemModel = OrderItemView;
export type ProductConnectionModel = Connection<ProductView>;
export type ProductEdgeModel = Connection<ProductView>['edges'][number];
export type OrderConnectionModel = Connection<OrderView>;
export type OrderEdgeModel = Connection<OrderView>['edges'][number];
export interface PlaceOrderPayloadModel {
  readonly order: OrderView;
}
export interface MoneyModel {
  readonly amount: string;
  readonly currency: string;
}
/** `OrderEvent`: the committed change as the feed delivered it. */
export type OrderEventModel = OrderChange;
