import { createHash } from 'node:crypto';

import { BadUserInputError } from '../../errors.js';
import { isRowId } from '../row-id.js';
import { readTextInput } from '../text-input.js';

/** Most line items in one order (as sent, before duplicate lines are merged). */
export const MAX_ORDER_LINES = 50;
/** Most units of one product in one order. */
export const MAX_LINE_QUANTITY = 100;
/** Longest idempotency key, in UTF-16 code units after NFC normalisation. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export interface PlaceOrderInput {
  items: readonly { productId: number; quantity: number }[];
  idempotencyKey?: string | null;
}

/** One product of a validated order. */
export interface OrderLine {
  readonly productId: number;
  readonly quantity: number;
  /** Index of the product's first line in the input, for error fields such as `input.items[3].productId`. */
  readonly inputIndex: number;
}

export interface OrderRequest {
  /** One line per product, in order of first appearance. */
  readonly lines: readonly OrderLine[];
  readonly idempotencyKey: string | null;
  /** Hash of the product/quantity set, to tell a retry from a reused key. */
  readonly fingerprint: string;
}

/**
 * Validates and normalises a placeOrder input; throws BadUserInputError naming the field.
 * Lines for the same product are merged (quantities summed); the merged quantity must
 * still be at most MAX_LINE_QUANTITY, reported on the line that went over.
 */
export function parsePlaceOrderInput(input: PlaceOrderInput): OrderRequest {
  const items = input.items;
  if (items.length < 1 || items.length > MAX_ORDER_LINES) {
    throw new BadUserInputError('input.items', `An order must have 1 to ${MAX_ORDER_LINES} items`);
  }
  const merged = new Map<number, { quantity: number; inputIndex: number }>();
  items.forEach((item, index) => {
    if (!isRowId(item.productId)) {
      throw new BadUserInputError(`input.items[${index}].productId`, 'Unknown product');
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_LINE_QUANTITY) {
      throw new BadUserInputError(
        `input.items[${index}].quantity`,
        `Quantity must be between 1 and ${MAX_LINE_QUANTITY}`,
      );
    }
    const line = merged.get(item.productId);
    if (line === undefined) {
      merged.set(item.productId, { quantity: item.quantity, inputIndex: index });
    } else if (line.quantity + item.quantity > MAX_LINE_QUANTITY) {
      throw new BadUserInputError(
        `input.items[${index}].quantity`,
        `At most ${MAX_LINE_QUANTITY} units of one product per order, across all its lines`,
      );
    } else {
      line.quantity += item.quantity;
    }
  });
  const lines = [...merged].map(([productId, line]) => ({ productId, ...line }));
  return { lines, idempotencyKey: parseIdempotencyKey(input.idempotencyKey), fingerprint: fingerprint(lines) };
}

function parseIdempotencyKey(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const key = readTextInput(value, 'input.idempotencyKey', 'Idempotency key');
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new BadUserInputError(
      'input.idempotencyKey',
      `Idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long`,
    );
  }
  return key;
}

// Line order does not matter: the same products and quantities are the same request.
function fingerprint(lines: readonly OrderLine[]): string {
  const canonical = [...lines]
    .sort((a, b) => a.productId - b.productId)
    .map((l) => `${l.productId}x${l.quantity}`)
    .join(',');
  return createHash('sha256').update(`v1|${canonical}`).digest('base64url');
}
