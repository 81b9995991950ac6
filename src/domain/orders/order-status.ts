import type { OrderStatus } from '../../db/database-schema.js';
import { ConflictError } from '../../errors.js';

export type { OrderStatus } from '../../db/database-schema.js';

/** Every status, in lifecycle order. */
export const ORDER_STATUSES: readonly OrderStatus[] = ['PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

/** The legal moves: PENDING → PAID → SHIPPED → DELIVERED, and PENDING/PAID → CANCELLED. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

/** Statuses from which an order may be cancelled (its stock is still reserved). */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((s) =>
  ORDER_TRANSITIONS[s].includes('CANCELLED'),
);

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** Throws ConflictError with reason `ILLEGAL_TRANSITION` (and `from`, `to`) unless the move is legal. */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new ConflictError('ILLEGAL_TRANSITION', `An order cannot move from ${from} to ${to}`, { from, to });
  }
}
