import { describe, expect, it } from '@jest/globals';

import {
  assertTransition,
  CANCELLABLE_STATUSES,
  canTransition,
  isOrderStatus,
  ORDER_STATUSES,
  type OrderStatus,
} from '../../../src/domain/orders/order-status.js';

const LEGAL: ReadonlyArray<readonly [OrderStatus, OrderStatus]> = [
  ['PENDING', 'PAID'],
  ['PAID', 'SHIPPED'],
  ['SHIPPED', 'DELIVERED'],
  ['PENDING', 'CANCELLED'],
  ['PAID', 'CANCELLED'],
];
const isLegal = (from: OrderStatus, to: OrderStatus) => LEGAL.some(([f, t]) => f === from && t === to);
const ALL_PAIRS = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

describe('order status transitions', () => {
  it.each(ALL_PAIRS.filter(([f, t]) => isLegal(f, t)))('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(ALL_PAIRS.filter(([f, t]) => !isLegal(f, t)))('refuses %s → %s as ILLEGAL_TRANSITION', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let error: unknown;
    try {
      assertTransition(from, to);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION', from, to } });
  });

  it('names both states in the message', () => {
    expect(() => assertTransition('DELIVERED', 'PAID')).toThrow(/DELIVERED.*PAID/);
  });

  it('lets only PENDING and PAID orders be cancelled', () => {
    expect(CANCELLABLE_STATUSES).toEqual(['PENDING', 'PAID']);
  });

  it('recognises exactly the five statuses', () => {
    expect(ORDER_STATUSES.every(isOrderStatus)).toBe(true);
    expect(isOrderStatus('pending')).toBe(false);
    expect(isOrderStatus('REFUNDED')).toBe(false);
    expect(isOrderStatus(1)).toBe(false);
  });
});
