import type { Transaction } from 'kysely';
import type { Principal, UserPrincipal } from '../../auth/principal.js';
import type { DatabaseSchema, OrderItemRow, OrderRow, OrderStatus } from '../../db/database-schema.js';
import { isUniqueViolation } from '../../db/database-errors.js';
import { isTransientTransactionError, retryTransaction } from '../../db/retry-transaction.js';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { lockProducts, returnStock, takeStock, type ProductView } from '../catalog/product-repository.js';
import { readPageArgs, toConnection, type Connection, type PageArgs } from '../pagination.js';
import type { ProfileView } from '../profile/profile-repository.js';
import { getCallerProfile, getProfile, ownsProfile } from '../profile/profile-service.js';
import { timestamp, type RequestDeps } from '../request-deps.js';
import { isRowId } from '../row-id.js';
import { hasScope, Scopes } from '../granted-scopes.js';
import { parsePlaceOrderInput, type OrderLine, type OrderRequest, type PlaceOrderInput } from './order-input.js';
import {
  findOrderByIdempotencyKey,
  findOrdersBefore,
  findOrderStatus,
  insertOrder,
  insertOrderItems,
  updateOrderStatusIf,
  type OrderItemView,
  type OrderView,
} from './order-repository.js';
import { assertTransition, CANCELLABLE_STATUSES, isOrderStatus } from './order-status.js';
import { writeTransaction } from './order-events.js';

export type { PlaceOrderInput } from './order-input.js';

/** Result of placeOrder: the order, and whether this call created it (false for an idempotent replay). */
export interface PlacedOrder {
  order: OrderRow;
  created: boolean;
}

/** Arguments of the admin order listing. */
export interface ListOrdersArgs extends PageArgs {
  status?: OrderStatus | null;
  customerId?: number | null;
}

/** Arguments of a profile's order listing. */
export interface ListProfileOrdersArgs extends PageArgs {
  status?: OrderStatus | null;
}

/**
 * Places an order for the calling user. Input is validated before anything is written
 * (BadUserInputError, fields `input.items`, `input.items[i].productId`,
 * `input.items[i].quantity`, `input.idempotencyKey`); duplicate product lines are merged.
 * Prices come from the catalog. Stock is taken with conditional updates inside one
 * transaction that first locks every product of the order in id order, so concurrent orders
 * never oversell and do not deadlock; a transaction that still loses a race is run again a few
 * times, then answered ConflictError `RETRY` (nothing written). Too little stock is
 * ConflictError `INSUFFICIENT_STOCK` (with `field`, the input line) and nothing is written. With an idempotency key, a repeat of the same items returns the original order
 * (`created: false`, stock untouched), also when the two requests race; the same key with
 * different items is ConflictError `IDEMPOTENCY_KEY_REUSED`.
 */
export async function placeOrder(
  deps: RequestDeps,
  principal: UserPrincipal,
  input: PlaceOrderInput,
): Promise<PlacedOrder> {
  const request = parsePlaceOrderInput(input);
  const customer = await getCallerProfile(deps, principal);
  const key = request.idempotencyKey;
  if (key !== null) {
    const previous = await findOrderByIdempotencyKey(deps.db, customer.id, key);
    if (previous !== undefined) return replay(deps, previous, request);
  }
  const products = await Promise.all(request.lines.map((l) => deps.loaders.productById.load(l.productId)));
  const currency = checkLines(request.lines, products);

  let placed: { order: OrderRow; items: OrderItemRow[] };
  try {
    placed = await retryingContention(() => insertOrderTransaction(deps, customer, request, currency));
  } catch (error) {
    // A concurrent twin with the same key may have committed first: its insert made ours
    // violate the unique key, or its stock decrement left too little for ours.
    const raced = key !== null && (isUniqueViolation(error) || error instanceof ConflictError);
    const winner = raced ? await findOrderByIdempotencyKey(deps.db, customer.id, key) : undefined;
    if (winner !== undefined) return replay(deps, winner, request);
    throw error;
  }

  const { order, items } = placed;
  deps.loaders.orderById.prime(order.id, order);
  deps.loaders.orderItemsByOrderId.prime(order.id, items);
  for (const line of request.lines) deps.loaders.productById.clear(line.productId);
  return { order, created: true };
}

/** Unknown products and mixed currencies are input errors, found before any write. */
function checkLines(lines: readonly OrderLine[], products: readonly (ProductView | null)[]): string {
  let currency: string | undefined;
  lines.forEach((line, i) => {
    const product = products[i];
    if (product === null || product === undefined) {
      throw new BadUserInputError(`input.items[${line.inputIndex}].productId`, 'Unknown product');
    }
    currency ??= product.currency;
    if (product.currency !== currency) {
      throw new BadUserInputError('input.items', 'All items of an order must be priced in the same currency');
    }
  });
  if (currency === undefined) throw new Error('An order request without lines passed validation');
  return currency;
}

async function insertOrderTransaction(
  deps: RequestDeps,
  customer: ProfileView,
  request: OrderRequest,
  currency: string,
): Promise<{ order: OrderRow; items: OrderItemRow[] }> {
  const now = timestamp(deps);
  // Loaders must not be used in here: on SQLite they would wait for this transaction's connection.
  return writeTransaction(deps, async (trx, publish) => {
    const prices = new Map<number, { price: number; currency: string }>();
    const byId = [...request.lines].sort((a, b) => a.productId - b.productId);
    // All product rows first, in id order, before the first update bumps the catalog version.
    await lockProducts(trx, byId.map((line) => line.productId));
    for (const line of byId) {
      const taken = await takeStock(trx, line.productId, line.quantity, now);
      if (taken === undefined) {
        // Named by input line, not by internal row id: clients only know global IDs.
        const field = `input.items[${line.inputIndex}].quantity`;
        throw new ConflictError('INSUFFICIENT_STOCK', `Not enough stock for ${field}`, { field });
      }
      // The currency was checked before the transaction; a concurrent catalog edit could change it.
      if (taken.currency !== currency) {
        throw new ConflictError('CATALOG_CHANGED', 'The catalog changed while the order was placed; try again');
      }
      prices.set(line.productId, { price: taken.price_minor, currency: taken.currency });
    }
    const priceOf = (line: OrderLine) => prices.get(line.productId)?.price ?? 0;
    const total = request.lines.reduce((sum, line) => sum + priceOf(line) * line.quantity, 0);
    if (!Number.isSafeInteger(total)) throw new BadUserInputError('input.items', 'The order total is too large');

    const order = await insertOrder(trx, {
      customer_id: customer.id,
      status: 'PENDING',
      total_minor: total,
      currency,
      idempotency_key: request.idempotencyKey,
      request_fingerprint: request.fingerprint,
      placed_at: now,
      updated_at: now,
    });
    const items = await insertOrderItems(
      trx,
      request.lines.map((line, position) => ({
        order_id: order.id,
        product_id: line.productId,
        quantity: line.quantity,
        unit_price_minor: priceOf(line),
        currency,
        position,
      })),
    );
    // Delivered to subscribers after commit (PostgreSQL: NOTIFY in this transaction).
    await publish({ kind: 'order', order, previousStatus: null });
    for (const line of byId) await publish({ kind: 'product', productId: line.productId });
    return { order, items };
  });
}

/**
 * Runs a write transaction, again when it lost a race with a concurrent one (deadlock,
 * serialization failure, SQLite busy: it was rolled back, so nothing of it was written). When
 * it keeps losing, the client is told to retry: ConflictError `RETRY`.
 */
async function retryingContention<T>(transaction: () => Promise<T>): Promise<T> {
  try {
    return await retryTransaction(transaction);
  } catch (error) {
    if (!isTransientTransactionError(error)) throw error;
    throw new ConflictError('RETRY', 'Concurrent updates to the same products kept this request from completing; nothing was changed, retry it', {
      retryable: true,
    });
  }
}

function replay(deps: RequestDeps, order: OrderRow, request: OrderRequest): PlacedOrder {
  if (order.request_fingerprint !== request.fingerprint) {
    throw new ConflictError(
      'IDEMPOTENCY_KEY_REUSED',
      'This idempotency key was already used for an order with different items',
    );
  }
  deps.loaders.orderById.prime(order.id, order);
  return { order, created: false };
}

/**
 * Cancels one of the caller's orders while it is PENDING or PAID and puts its stock back,
 * in one transaction. Someone else's order and a missing one are both NotFoundError
 * ('Order'); any other status (including losing a race with another cancel) is
 * ConflictError `ILLEGAL_TRANSITION`.
 */
export async function cancelOrder(deps: RequestDeps, principal: UserPrincipal, orderId: number): Promise<OrderView> {
  const order = await deps.loaders.orderById.load(orderId);
  if (order === null || !(await ownsProfile(deps, principal, order.customer_id))) throw new NotFoundError('Order');
  assertTransition(order.status, 'CANCELLED');
  return moveOrder(deps, order, CANCELLABLE_STATUSES, 'CANCELLED');
}

/**
 * Moves an order along its lifecycle (the caller has checked `admin:orders`; this
 * re-checks it and throws ForbiddenError `INSUFFICIENT_SCOPE` if missing). Missing order:
 * NotFoundError. Illegal move: ConflictError `ILLEGAL_TRANSITION`. The update is
 * conditional on the status read, so of two concurrent moves only one wins; the loser gets
 * `ILLEGAL_TRANSITION`, or `CONCURRENT_UPDATE` when its move would still be legal from the
 * new status. Moving to CANCELLED restores stock.
 */
export async function updateOrderStatus(
  deps: RequestDeps,
  principal: Principal,
  orderId: number,
  status: OrderStatus,
): Promise<OrderView> {
  requireAdmin(principal);
  if (!isOrderStatus(status)) throw new BadUserInputError('status', 'Unknown order status');
  const order = await deps.loaders.orderById.load(orderId);
  if (order === null) throw new NotFoundError('Order');
  assertTransition(order.status, status);
  return moveOrder(deps, order, [order.status], status);
}

/** Attempts at the conditional update when the order keeps moving between statuses the move accepts. */
const MOVE_ATTEMPTS = 3;

/**
 * The conditional update of {@link moveOrder}, and the status the row had when it was made (the
 * `previousStatus` its change reports). It is conditional on the one status the row is known to
 * have: first the one the request read; when the order has moved since to another status in
 * `expected` (a cancel accepts PENDING and PAID), the one read again in this transaction. A
 * missing order is NotFoundError; a status the move is illegal from, ILLEGAL_TRANSITION; a legal
 * one it was not made for, CONCURRENT_UPDATE.
 */
async function updateFromCurrentStatus(
  trx: Transaction<DatabaseSchema>,
  order: OrderView,
  expected: readonly OrderStatus[],
  to: OrderStatus,
  now: string,
): Promise<{ row: OrderView; from: OrderStatus }> {
  let from = order.status;
  for (let attempt = 1; ; attempt++) {
    const row = await updateOrderStatusIf(trx, order.id, [from], to, now);
    if (row !== undefined) return { row, from };
    const current = await findOrderStatus(trx, order.id);
    if (current === undefined) throw new NotFoundError('Order');
    assertTransition(current, to);
    if (current === from || !expected.includes(current) || attempt === MOVE_ATTEMPTS) {
      throw new ConflictError('CONCURRENT_UPDATE', `The order changed to ${current} meanwhile; try again`, { from: current, to });
    }
    from = current;
  }
}

async function moveOrder(
  deps: RequestDeps,
  order: OrderView,
  expected: readonly OrderStatus[],
  to: OrderStatus,
): Promise<OrderView> {
  const restock = to === 'CANCELLED' ? await deps.loaders.orderItemsByOrderId.load(order.id) : [];
  const now = timestamp(deps);
  const byProduct = [...restock].sort((a, b) => a.product_id - b.product_id);
  const updated = await retryingContention(() => writeTransaction(deps, async (trx, publish) => {
    const { row, from } = await updateFromCurrentStatus(trx, order, expected, to, now);
    // Same lock order as placeOrder: the order row first, then every product by ascending id.
    await lockProducts(trx, byProduct.map((item) => item.product_id));
    for (const item of byProduct) await returnStock(trx, item.product_id, item.quantity, now);
    await publish({ kind: 'order', order: row, previousStatus: from });
    for (const item of byProduct) await publish({ kind: 'product', productId: item.product_id });
    return row;
  }));
  deps.loaders.orderById.clear(updated.id).prime(updated.id, updated);
  for (const item of restock) deps.loaders.productById.clear(item.product_id);
  return updated;
}

/**
 * One order, if the principal owns it or has `admin:orders`; otherwise null, exactly as
 * for a missing order. Client principals own no orders; anonymous principals get null.
 */
export async function getOrder(deps: RequestDeps, principal: Principal, orderId: number): Promise<OrderView | null> {
  if (principal.kind === 'anonymous') return null;
  const order = await deps.loaders.orderById.load(orderId);
  if (order === null) return null;
  return (await canReadOrder(deps, principal, order)) ? order : null;
}

/** The items of an order the caller may already see, by position. Batched through `orderItemsByOrderId`. */
export async function getOrderItems(deps: RequestDeps, order: Pick<OrderView, 'id'>): Promise<readonly OrderItemView[]> {
  return deps.loaders.orderItemsByOrderId.load(order.id);
}

/** `Order.customer`: the order's profile under the profile rules of getProfile. */
export async function getOrderCustomer(
  deps: RequestDeps,
  principal: Principal,
  order: Pick<OrderView, 'customer_id'>,
): Promise<ProfileView | null> {
  return getProfile(deps, principal, order.customer_id);
}

/**
 * Every customer's orders, newest first, optionally filtered by status and customer (the
 * admin listing; ForbiddenError `INSUFFICIENT_SCOPE` without `admin:orders`). One statement.
 */
export async function listOrders(
  deps: RequestDeps,
  principal: Principal,
  args: ListOrdersArgs,
): Promise<Connection<OrderView>> {
  requireAdmin(principal);
  return pageOfOrders(deps, args, args.customerId ?? null);
}

/**
 * `Profile.orders`: a profile's orders, newest first; null unless the principal owns the
 * profile or has `admin:orders`.
 */
export async function listOrdersForProfile(
  deps: RequestDeps,
  principal: Principal,
  profileId: number,
  args: ListProfileOrdersArgs,
): Promise<Connection<OrderView> | null> {
  const allowed = hasScope(principal, Scopes.adminOrders) || (await ownsProfile(deps, principal, profileId));
  return allowed ? pageOfOrders(deps, args, profileId) : null;
}

async function pageOfOrders(
  deps: RequestDeps,
  args: ListProfileOrdersArgs,
  customerId: number | null,
): Promise<Connection<OrderView>> {
  const page = readPageArgs(deps.cursors, args);
  // An id that cannot exist matches no orders (and PostgreSQL would reject it as out of range).
  if (customerId !== null && !isRowId(customerId)) return toConnection(deps.cursors, [], page.limit);
  if (args.status !== undefined && args.status !== null && !isOrderStatus(args.status)) {
    throw new BadUserInputError('status', 'Unknown order status');
  }
  const rows = await findOrdersBefore(deps.db, { status: args.status ?? null, customerId }, page.afterId, page.limit + 1);
  for (const row of rows) deps.loaders.orderById.prime(row.id, row);
  return toConnection(deps.cursors, rows, page.limit);
}

async function canReadOrder(deps: RequestDeps, principal: Principal, order: OrderView): Promise<boolean> {
  return hasScope(principal, Scopes.adminOrders) || ownsProfile(deps, principal, order.customer_id);
}

function requireAdmin(principal: Principal): void {
  if (!hasScope(principal, Scopes.adminOrders)) {
    throw new ForbiddenError('INSUFFICIENT_SCOPE', `This operation requires the ${Scopes.adminOrders} scope`, {
      scope: Scopes.adminOrders,
    });
  }
}
