import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { MIN_CURSOR_SECRET_BYTES } from '../../../src/config.js';
import { createCursorCodec } from '../../../src/domain/cursor-codec.js';
import { MAX_ROW_ID } from '../../../src/domain/row-id.js';
import { thrown } from '../../fixtures/errors.js';

const SECRET = Buffer.alloc(MIN_CURSOR_SECRET_BYTES, 7);
const rowIds = fc.integer({ min: 1, max: MAX_ROW_ID });

const badInput = (f: () => unknown) => thrown(f) as { extensions?: Record<string, unknown> };

describe('cursor codec', () => {
  const codec = createCursorCodec(SECRET);

  it('round-trips every row id through a short base64url cursor', () => {
    fc.assert(
      fc.property(rowIds, (id) => {
        const cursor = codec.encode(id);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]{1,44}$/);
        expect(codec.decode('after', cursor)).toBe(id);
      }),
    );
  });

  it('accepts the cursors of another codec with the same secret (another replica)', () => {
    expect(createCursorCodec(Buffer.from(SECRET)).decode('after', codec.encode(42))).toBe(42);
  });

  it('treats a missing cursor as the start', () => {
    expect(codec.decode('after', null)).toBeNull();
    expect(codec.decode('after', undefined)).toBeNull();
  });

  it('reveals no row id: the id appears nowhere in the cursor, as text or as bytes', () => {
    // Ids of 7+ digits and 4 significant bytes: a chance match in 33 random bytes is negligible.
    fc.assert(
      fc.property(fc.integer({ min: 16_777_216, max: MAX_ROW_ID }), (id) => {
        const cursor = codec.encode(id);
        const bytes = Buffer.from(cursor, 'base64url');
        const big = Buffer.alloc(4);
        big.writeUInt32BE(id);
        const little = Buffer.alloc(4);
        little.writeUInt32LE(id);
        expect(cursor).not.toContain(String(id));
        expect(bytes.toString('latin1')).not.toContain(String(id));
        expect(bytes.includes(big)).toBe(false);
        expect(bytes.includes(little)).toBe(false);
      }),
    );
  });

  it('gives two cursors for the same row, and for neighbouring rows, nothing in common beyond the version', () => {
    const cursors = [codec.encode(4), codec.encode(4), codec.encode(5)];
    expect(new Set(cursors).size).toBe(3);
    const bytes = cursors.map((c) => Buffer.from(c, 'base64url'));
    for (const [a, b] of [[bytes[0]!, bytes[1]!], [bytes[0]!, bytes[2]!]] as const) {
      // Byte 0 is the format version; the random nonce follows.
      expect(a[0]).toBe(b[0]);
      expect(a.subarray(1).equals(b.subarray(1))).toBe(false);
      expect(a.subarray(1, 5).equals(b.subarray(1, 5))).toBe(false);
    }
  });

  it('refuses every single-character change of a cursor, naming the argument', () => {
    const cursor = codec.encode(123_456);
    const alphabet = 'AQgw_';
    for (let i = 0; i < cursor.length; i++) {
      for (const c of alphabet) {
        if (c === cursor[i]) continue;
        const tampered = cursor.slice(0, i) + c + cursor.slice(i + 1);
        expect(badInput(() => codec.decode('after', tampered)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    }
  });

  it('refuses a cursor issued under another secret, or by a codec with a random secret', () => {
    const other = createCursorCodec(Buffer.alloc(MIN_CURSOR_SECRET_BYTES, 8));
    expect(badInput(() => codec.decode('after', other.encode(9))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(badInput(() => codec.decode('after', createCursorCodec().encode(9))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['garbage', 'hello'],
    ['readable cursor of earlier versions', Buffer.from('v1:5').toString('base64url')],
    ['one character short', 'A'.repeat(43)],
    ['one character long', 'A'.repeat(45)],
    ['overlong', 'A'.repeat(100_000)],
  ])('refuses a %s cursor with BAD_USER_INPUT naming the argument', (_, value) => {
    expect(badInput(() => codec.decode('first', value)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('refuses a valid cursor with a character appended or removed', () => {
    const cursor = codec.encode(77);
    for (const changed of [`${cursor}A`, cursor.slice(0, -1), cursor.slice(1)]) {
      expect(badInput(() => codec.decode('after', changed)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
  });

  it('refuses a secret shorter than 32 bytes, and ids that are not row ids', () => {
    expect(() => createCursorCodec(Buffer.alloc(31))).toThrow(RangeError);
    for (const id of [0, -1, 1.5, MAX_ROW_ID + 1]) expect(() => codec.encode(id)).toThrow(RangeError);
  });
});
