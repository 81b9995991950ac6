import { describe, expect, it } from '@jest/globals';

import { formatMinorUnits } from '../../../src/domain/money.js';

describe('formatMinorUnits', () => {
  it.each([
    [1999, 'USD', '19.99'],
    [5, 'USD', '0.05'],
    [0, 'USD', '0.00'],
    [120000, 'USD', '1200.00'],
    [100, 'EUR', '1.00'],
    [-120, 'USD', '-1.20'],
    [-5, 'USD', '-0.05'],
    [1500, 'JPY', '1500'],
    [1234, 'KWD', '1.234'],
    [7, 'BHD', '0.007'],
    [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91'],
  ])('formats %d %s as %s', (minor, currency, amount) => {
    expect(formatMinorUnits(minor, currency)).toEqual({ amount, currency });
  });

  it('rejects amounts that are not safe integers', () => {
    expect(() => formatMinorUnits(19.99, 'USD')).toThrow(RangeError);
    expect(() => formatMinorUnits(Number.MAX_SAFE_INTEGER + 1, 'USD')).toThrow(RangeError);
    expect(() => formatMinorUnits(Number.NaN, 'USD')).toThrow(RangeError);
  });

  it('rejects currencies that are not ISO 4217 codes', () => {
    expect(() => formatMinorUnits(100, 'usd')).toThrow(RangeError);
    expect(() => formatMinorUnits(100, 'US')).toThrow(RangeError);
  });
});
