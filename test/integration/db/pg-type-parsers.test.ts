import { describe, expect, it } from '@jest/globals';

import { parseSafeInteger, parseTimestampToIso } from '../../../src/db/pg-type-parsers.js';

describe('PostgreSQL type parsers', () => {
  it.each([
    ['2026-11-22 09:54:19+00', '2026-11-22T09:54:19.000Z'],
    ['2026-11-22 09:54:19.123456+00', '2026-11-22T09:54:19.123Z'],
    ['2026-11-22 09:54:19.5+00', '2026-11-22T09:54:19.500Z'],
    ['2026-11-22 09:54:19.07+00', '2026-11-22T09:54:19.070Z'],
    ['2026-11-22 09:54:19.0009+00', '2026-11-22T09:54:19.000Z'],
    ['2026-11-22 11:54:19.5+02', '2026-11-22T09:54:19.500Z'],
    ['2026-11-22 04:24:19-05:30', '2026-11-22T09:54:19.000Z'],
    ['2026-11-22 09:54:19', '2026-11-22T09:54:19.000Z'],
    ['0099-01-01 00:00:00+00', '0099-01-01T00:00:00.000Z'],
  ])('reads timestamp %s as %s', (text, iso) => {
    expect(parseTimestampToIso(text)).toBe(iso);
  });

  it('reads every form PostgreSQL prints in a UTC session (0 to 6 fraction digits) as the instant it names', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(((i * 7919) % 2000) * 1.6e9 + i * 123);
      const iso = new Date(ms).toISOString();
      const digits = i % 7;
      const micros = `${iso.slice(20, 23)}${String(i % 1000).padStart(3, '0')}`.slice(0, digits);
      const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${digits === 0 ? '' : `.${micros}`}+00`;
      const expected = `${iso.slice(0, 19)}.${micros.padEnd(3, '0').slice(0, 3)}Z`;
      expect(parseTimestampToIso(text)).toBe(expected);
    }
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
