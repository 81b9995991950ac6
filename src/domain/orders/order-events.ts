import type { Transaction } from 'kysely';
import type { Principal } from '../../auth/principal.js';
import type { Publish } from '../../db/change-feed.js';
import type { DatabaseSchema, OrderStatus } from '../../db/database-schema.js';
import { Scopes, hasScope } from '../granted-scopes.js';
import { getCallerProfile } from '../profile/profile-service.js';
import type { RequestDeps } from '../request-deps.js';
import type { OrderView } from './order-repository.js';

/** An order was placed (`previousStatus` null) or moved to another status; `order` is the committed row as reads select it (no idempotency key or fingerprint). */
export interface OrderChange {
  readonly kind: 'order';
  readonly order: OrderView;
  readonly previousStatus: OrderStatus | null;
}

/** A product's stock or price changed (the row is read when the event is delivered). */
export interface ProductChange {
  readonly kind: 'product';
  readonly productId: number;
}

/** What the domain publishes after a commit (README, "Subscriptions"). */
export type DomainChange = OrderChange | ProductChange;

/** Whether a delivered feed message is one of ours (messages cross process boundaries as JSON). */
export function isDomainChange(message: unknown): message is DomainChange {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  if (m['kind'] === 'product') return typeof m['productId'] === 'number';
  if (m['kind'] !== 'order') return false;
  const order = m['order'] as Record<string, unknown> | null;
  return typeof order === 'object' && order !== null && typeof order['id'] === 'number' && typeof order['customer_id'] === 'number';
}

/**
 * Runs a write transaction whose changes are published to subscribers after it commits (through
 * the server's change feed; without one, as in domain tests, a plain transaction).
 */
export function writeTransaction<T>(deps: RequestDeps, work: (trx: Transaction<DatabaseSchema>, publish: (change: DomainChange) => Promise<void>) => Promise<T>): Promise<T> {
  if (deps.changes === undefined) return deps.db.transaction().execute((trx) => work(trx, async () => undefined));
  return deps.changes.transaction(deps.db, (trx, publish: Publish) => work(trx, publish));
}

/**
 * Whether `principal` may receive this order's change: its owner (`callerProfileId`, the
 * principal's profile) or a principal with `admin:orders`, exactly the rule of `Query.order`.
 * Anyone else never receives it, not even as a null.
 */
export function mayReceiveOrderChange(principal: Principal, callerProfileId: number | null, change: OrderChange): boolean {
  if (principal.kind === 'anonymous') return false;
  return hasScope(principal, Scopes.adminOrders) || (callerProfileId !== null && change.order.customer_id === callerProfileId);
}

/**
 * Which order changes `principal` receives, decided once when it subscribes: with `admin:orders`
 * every order's (or `orderId`'s), for a user its own orders' (its profile is looked up, created on
 * first use like `me`), for anyone else none. `orderId` narrows to one order.
 */
export async function orderChangeFilter(deps: RequestDeps, principal: Principal, orderId: number | null): Promise<(change: DomainChange) => change is OrderChange> {
  const profileId = principal.kind === 'user' && !hasScope(principal, Scopes.adminOrders) ? (await getCallerProfile(deps, principal)).id : null;
  return (change): change is OrderChange =>
    change.kind === 'order' && (orderId === null || change.order.id === orderId) && mayReceiveOrderChange(principal, profileId, change);
}

/** Changes of one product, or of every product when `productId` is null (public data). */
export function productChangeFilter(productId: number | null): (change: DomainChange) => change is ProductChange {
  return (change): change is ProductChange => change.kind === 'product' && (productId === null || change.productId === productId);
}
