import { describe, expect, it } from '@jest/globals';

import { parseSafeInteger, parseTimestampToIso } from '../../../src/db/pg-type-parsers.js';

describe('PostgreSQL type parsers', () => {
  it.each([
    ['2026-11-22 09:54:19+00', '2026-11-22T09:54:19.000Z'],
    ['2026-11-22 09:54:19.123456+00', '2026-11-22T09:54:19.123Z'],
    ['2026-11-22 11:54:19.5+02', '2026-11-22T09:54:19.500Z'],
    ['2026-11-22 04:24:19-05:30', '2026-11-22T09:54:19.000Z'],
    ['2026-11-22 09:54:19', '2026-11-22T09:54:19.000Z'],
    ['0099-01-01 00:00:00+00', '0099-01-01T00:00:00.000Z'],
  ])('reads timestamp %s as %s', (text, iso) => {
    expect(parseTimestampToIso(text)).toBe(iso);
  });

  it('passes infinity through unchanged', () => {
    expect(parseTimestampToIso('infinity')).toBe('infinity');
  });

  it('reads safe integers as numbers and keeps the rest exact', () => {
    expect(parseSafeInteger('42')).toBe(42);
    expect(parseSafeInteger('-7')).toBe(-7);
    expect(parseSafeInteger('9007199254740993')).toBe('9007199254740993');
    expect(parseSafeInteger('12.50')).toBe('12.50');
  });
});
