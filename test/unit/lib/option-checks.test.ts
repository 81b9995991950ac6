import { describe, expect, it } from '@jest/globals';
import { checkNonNegative } from '../../../src/lib/option-checks.js';

describe('checkNonNegative', () => {
  it('accepts zero, positive numbers and options not given', () => {
    expect(() => checkNonNegative({ a: 0, b: 1.5, c: undefined })).not.toThrow();
    expect(() => checkNonNegative({ a: 0, b: 7 }, 'integer')).not.toThrow();
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p, naming the option', (value) => {
    expect(() => checkNonNegative({ fine: 1, timeoutMs: value })).toThrow(new TypeError('timeoutMs must be a non-negative number'));
  });

  it('refuses a fraction where an integer is needed', () => {
    expect(() => checkNonNegative({ retryMs: 1.5 }, 'integer')).toThrow(new TypeError('retryMs must be a non-negative integer'));
  });
});
