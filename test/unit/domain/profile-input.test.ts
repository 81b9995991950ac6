import { describe, expect, it } from '@jest/globals';

import { initialDisplayName, parseUpdateProfileInput } from '../../../src/domain/profile/profile-input.js';
import { thrown } from '../../fixtures/errors.js';


describe('parseUpdateProfileInput', () => {
  it('trims the display name and leaves absent fields out', () => {
    expect(parseUpdateProfileInput({ displayName: '  Ada Lovelace ' })).toEqual({ displayName: 'Ada Lovelace' });
    expect(parseUpdateProfileInput({ displayName: null })).toEqual({});
    expect(parseUpdateProfileInput({})).toEqual({});
  });

  it('clears the email with null', () => {
    expect(parseUpdateProfileInput({ email: null })).toEqual({ email: null });
  });

  it('counts characters, not UTF-16 units', () => {
    expect(parseUpdateProfileInput({ displayName: '😀'.repeat(100) }).displayName).toHaveLength(200);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['101 characters', 'x'.repeat(101)],
    ['a control character', 'Ada\u0000'],
  ])('rejects a display name that is %s', (_, displayName) => {
    expect(thrown(() => parseUpdateProfileInput({ displayName }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.displayName' },
    });
  });

  it.each(['ada@example.com', 'first.last+tag@mail.example.co.uk', "o'brien@example.ie", 'x@xn--bcher-kva.example'])(
    'accepts %s',
    (email) => {
      expect(parseUpdateProfileInput({ email })).toEqual({ email });
    },
  );

  it.each([
    '',
    'plainaddress',
    '@example.com',
    'ada@',
    'ada@localhost',
    'ada@@example.com',
    'ada..lovelace@example.com',
    '.ada@example.com',
    'ada lovelace@example.com',
    'ada@exa_mple.com',
    'ada@-example.com',
    `${'a'.repeat(65)}@example.com`,
    `ada@${'a'.repeat(250)}.com`,
  ])('rejects %p as an email', (email) => {
    expect(thrown(() => parseUpdateProfileInput({ email }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.email' },
    });
  });
});

describe('initialDisplayName', () => {
  it('uses the name claim, trimmed and cut to 100 characters', () => {
    expect(initialDisplayName(' Ada ')).toBe('Ada');
    expect(initialDisplayName('y'.repeat(150))).toHaveLength(100);
  });

  it('falls back to Customer', () => {
    expect(initialDisplayName(undefined)).toBe('Customer');
    expect(initialDisplayName('   ')).toBe('Customer');
  });
});
