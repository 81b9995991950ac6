import { describe, expect, it } from '@jest/globals';

import { parsePlaceOrderInput } from '../../../src/domain/orders/order-input.js';
import { thrown } from '../../fixtures/errors.js';


const line = (productId: number, quantity = 1) => ({ productId, quantity });

describe('parsePlaceOrderInput', () => {
  it('merges lines for the same product, keeping first-appearance order', () => {
    const request = parsePlaceOrderInput({ items: [line(3, 2), line(1, 1), line(3, 5)] });
    expect(request.lines).toEqual([
      { productId: 3, quantity: 7, inputIndex: 0 },
      { productId: 1, quantity: 1, inputIndex: 1 },
    ]);
  });

  it('rejects a merged quantity above 100 on the line that goes over', () => {
    expect(thrown(() => parsePlaceOrderInput({ items: [line(3, 60), line(4), line(3, 41)] }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.items[2].quantity' },
    });
  });

  it.each([
    ['no items', { items: [] }, 'input.items'],
    ['51 items', { items: Array.from({ length: 51 }, (_, i) => line(i + 1)) }, 'input.items'],
    ['quantity 0', { items: [line(1), line(2, 0)] }, 'input.items[1].quantity'],
    ['quantity 101', { items: [line(1, 101)] }, 'input.items[0].quantity'],
    ['fractional quantity', { items: [line(1, 1.5)] }, 'input.items[0].quantity'],
    ['product id 0', { items: [line(0)] }, 'input.items[0].productId'],
    ['empty idempotency key', { items: [line(1)], idempotencyKey: '' }, 'input.idempotencyKey'],
    ['201-character key', { items: [line(1)], idempotencyKey: 'k'.repeat(201) }, 'input.idempotencyKey'],
  ])('rejects %s naming %s', (_, input, field) => {
    expect(thrown(() => parsePlaceOrderInput(input))).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
  });

  it('accepts 50 items and a 200-character key', () => {
    const request = parsePlaceOrderInput({
      items: Array.from({ length: 50 }, (_, i) => line(i + 1)),
      idempotencyKey: 'k'.repeat(200),
    });
    expect(request.lines).toHaveLength(50);
    expect(request.idempotencyKey).toHaveLength(200);
  });

  it('fingerprints the product set regardless of line order or splitting', () => {
    const a = parsePlaceOrderInput({ items: [line(1, 2), line(2, 1)] });
    const b = parsePlaceOrderInput({ items: [line(2, 1), line(1, 1), line(1, 1)] });
    const c = parsePlaceOrderInput({ items: [line(1, 3), line(2, 1)] });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });
});
