import { describe, expect, it } from '@jest/globals';

import { initialDisplayName, parseUpdateProfileInput } from '../../../src/domain/profile/profile-input.js';
import { parsePlaceOrderInput } from '../../../src/domain/orders/order-input.js';
import { createCursorCodec } from '../../../src/domain/cursor-codec.js';
import { readTextInput } from '../../../src/domain/text-input.js';
import { expectGlobalId, toGlobalId } from '../../../src/graphql/global-id.js';
import { thrown } from '../../fixtures/errors.js';

// Text a reader cannot see, or that reorders what they see, or that is not text at all.
const REFUSED: ReadonlyArray<[string, string]> = [
  ['a right-to-left override (Cf)', '\u202egnp.exe'],
  ['a zero-width space (Cf)', 'Ada\u200bLovelace'],
  ['a zero-width joiner (Cf)', 'Ada\u200d'],
  ['a byte order mark inside (Cf)', 'Ada\ufeffL'],
  ['a soft hyphen (Cf)', 'Ada\u00adL'],
  ['a line separator (Zl)', 'Ada\u2028Lovelace'],
  ['a paragraph separator (Zp)', 'Ada\u2029Lovelace'],
  ['a lone high surrogate (Cs, ill-formed UTF-16)', '\ud800abc'],
  ['a lone low surrogate (Cs, ill-formed UTF-16)', 'abc\udc00'],
  ['a NUL (Cc)', 'Ada\u0000'],
  ['a C1 control (Cc)', 'Ada\u0085L'],
  ['a newline inside (Cc)', 'Ada\nLovelace'],
];

describe('readTextInput', () => {
  it.each(REFUSED)('refuses %s with BAD_USER_INPUT naming the field', (_name, value) => {
    expect(thrown(() => readTextInput(value, 'input.note', 'Note'))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.note' },
    });
  });

  it('normalises to NFC: a decomposed é becomes the composed one', () => {
    expect(readTextInput('Andre\u0301', 'input.note', 'Note')).toBe('Andr\u00e9');
    expect(readTextInput('\u1100\u1161', 'input.note', 'Note')).toBe('\uac00');
  });

  it('keeps ordinary text, including astral characters and spaces, as it is', () => {
    for (const text of ['Ada Lovelace', 'Zoë 😀', '李小龍', 'مرحبا', ' padded ']) {
      expect(readTextInput(text, 'input.note', 'Note')).toBe(text);
    }
  });
});

describe('every text input applies the text rules', () => {
  it.each(REFUSED)('displayName with %s is refused', (_name, value) => {
    expect(thrown(() => parseUpdateProfileInput({ displayName: value }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.displayName' },
    });
  });

  it.each(REFUSED)('email with %s is refused', (_name, value) => {
    expect(thrown(() => parseUpdateProfileInput({ email: `a${value}@example.com` }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.email' },
    });
  });

  it.each(REFUSED)('idempotencyKey with %s is refused', (_name, value) => {
    expect(thrown(() => parsePlaceOrderInput({ items: [{ productId: 1, quantity: 1 }], idempotencyKey: `key-${value}` }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' },
    });
  });

  it('stores the display name and idempotency key in NFC, and measures the display name after normalising', () => {
    expect(parseUpdateProfileInput({ displayName: ' Jose\u0301 ' })).toEqual({ displayName: 'Jos\u00e9' });
    expect(parsePlaceOrderInput({ items: [{ productId: 1, quantity: 1 }], idempotencyKey: 'cafe\u0301' }).idempotencyKey).toBe('caf\u00e9');
    // 100 decomposed é are 200 code points as sent and 100 as stored: the limit applies to what is stored.
    expect(parseUpdateProfileInput({ displayName: 'e\u0301'.repeat(100) }).displayName).toBe('\u00e9'.repeat(100));
  });

  it.each(REFUSED)('a global ID with %s is not an ID', (_name, value) => {
    expect(thrown(() => expectGlobalId(`${toGlobalId('Product', 1)}${value}`, 'Product', 'id'))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'id' },
    });
  });

  it.each(REFUSED)('a cursor with %s is not a cursor', (_name, value) => {
    const cursors = createCursorCodec();
    expect(thrown(() => cursors.decode('after', `${cursors.encode(4)}${value}`))).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  });

  it('cleans a token’s name claim the same way for a new profile, rather than refusing the token', () => {
    expect(initialDisplayName('\u202eAda\u200b Love\u2028lace\ud800')).toBe('Ada Love lace');
    expect(initialDisplayName('Jose\u0301')).toBe('Jos\u00e9');
    expect(initialDisplayName('\u200b\u200d')).toBe('Customer');
  });
});
