import { describe, expect, it } from '@jest/globals';
import { parseScopes } from '../../../src/auth/scope-claim.js';

describe('parseScopes', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['scope string', { scope: 'read:profile read:orders' }, ['read:profile', 'read:orders']],
    ['runs of spaces', { scope: '  read:profile   read:orders ' }, ['read:profile', 'read:orders']],
    ['empty scope', { scope: '' }, []],
    ['no scope claims', {}, []],
    ['scp array', { scp: ['read:profile', 'write:orders'] }, ['read:profile', 'write:orders']],
    ['scp string', { scp: 'read:profile write:orders' }, ['read:profile', 'write:orders']],
    ['both, unioned', { scope: 'a b', scp: ['b', 'c'] }, ['a', 'b', 'c']],
    ['duplicates collapse', { scope: 'a a a' }, ['a']],
    ['non-string scope ignored', { scope: 42 }, []],
    ['object scope ignored', { scope: { read: true } }, []],
    ['null scp ignored', { scp: null }, []],
    ['junk array members ignored', { scp: ['a', 1, null, { b: 1 }, ['c'], '', 'd e'] }, ['a']],
    ['tabs are not separators', { scope: 'a\tb' }, ['a\tb']],
  ])('%s', (_name, claims, expected) => {
    expect([...parseScopes(claims)].sort()).toEqual([...expected].sort());
  });

  it('matches exact strings only, never substrings or prefixes', () => {
    const scopes = parseScopes({ scope: 'read:orders:all admin-readonly' });
    expect(scopes.has('read:orders')).toBe(false);
    expect(scopes.has('admin')).toBe(false);
    expect(scopes.has('read:orders:all')).toBe(true);
    expect(parseScopes({ scope: 'read' }).has('read:orders')).toBe(false);
  });

  it('returns a set that cannot be modified', () => {
    const scopes = parseScopes({ scope: 'a' }) as Set<string>;
    expect(() => scopes.add('admin')).toThrow(TypeError);
    expect(() => scopes.delete('a')).toThrow(TypeError);
    expect(() => scopes.clear()).toThrow(TypeError);
    expect([...scopes]).toEqual(['a']);
  });
});
