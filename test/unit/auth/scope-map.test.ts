import { describe, expect, it } from '@jest/globals';
import { compileScopeMap, withMappedScopes } from '../../../src/auth/scope-map.js';
import { parseScopeMapSpec, type ScopeMapSpec } from '../../../src/lib/scope-map-spec.js';
import type { UserPrincipal } from '../../../src/auth/principal.js';

const CATALOG = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];

const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('compileScopeMap: each convention onto verb:resource', () => {
  it.each<[string, ScopeMapSpec, string[], string[], string[]]>([
    // name, spec, token scopes, token aud, expected
    ['no rules: scopes kept as they are', {}, ['read:orders', 'openid'], [], ['openid', 'read:orders']],
    ['resource:verb', { convention: 'resource:verb' }, ['orders:read', 'orders:write', 'profile:read'], [], ['read:orders', 'read:profile', 'write:orders']],
    ['resource:verb keeps native verb:resource scopes', { convention: 'resource:verb' }, ['read:orders', 'orders:write'], [], ['read:orders', 'write:orders']],
    ['resource:verb leaves unknown pairs alone', { convention: 'resource:verb' }, ['orders:delete', 'invoices:read'], [], ['invoices:read', 'orders:delete']],
    ['resource.verb with a custom separator', { convention: 'resource:verb', separator: '.' }, ['orders.read', 'email.read'], [], ['read:email', 'read:orders']],
    ['URI prefix, resource:verb', { convention: 'resource:verb', prefixes: ['https://api.example.com/'] }, ['https://api.example.com/orders:read'], [], ['read:orders']],
    ['URI prefix, verb:resource', { prefixes: ['https://api.example.com/'] }, ['https://api.example.com/write:orders'], [], ['write:orders']],
    ['URI prefix is exact: another host is not mapped', { prefixes: ['https://api.example.com/'] }, ['https://api.example.com.evil/read:orders', 'https://api.example.com/read:orders/x'], [], ['https://api.example.com.evil/read:orders', 'https://api.example.com/read:orders/x']],
    ['resource indicator: aud names the resource, scope is the verb', { audiencePrefixes: ['https://api.example.com/'] }, ['read', 'write'], ['https://api.example.com/orders'], ['read:orders', 'write:orders']],
    ['resource indicator: a verb the resource does not have is kept', { audiencePrefixes: ['https://api.example.com/'] }, ['read', 'admin'], ['https://api.example.com/profile'], ['admin', 'read:profile']],
    ['resource indicator: one scope per named resource', { audiencePrefixes: ['https://api.example.com/'] }, ['read'], ['https://api.example.com/orders', 'https://api.example.com/profile'], ['read:orders', 'read:profile']],
    ['resource indicator: other audiences name nothing', { audiencePrefixes: ['https://api.example.com/'] }, ['read'], ['https://api.example.com/orders/extra', 'https://other.example/orders'], ['read']],
    ['aliases rename exactly', { aliases: { 'orders.read': 'read:orders', 'orders.admin': 'admin:orders' } }, ['orders.read', 'orders.admin', 'orders.readonly'], [], ['admin:orders', 'orders.readonly', 'read:orders']],
    ['never substrings: a longer scope is not mapped', { convention: 'resource:verb' }, ['orders:readall', 'xorders:read', 'orders:read '], [], ['orders:read ', 'orders:readall', 'xorders:read']],
  ])('%s', (_name, spec, scopes, audience, expected) => {
    const mapper = compileScopeMap(parseScopeMapSpec(spec), CATALOG);
    expect(sorted(mapper.map(new Set(scopes), audience))).toEqual(expected);
  });

  it('returns an immutable set', () => {
    const mapped = compileScopeMap({ convention: 'resource:verb' }, CATALOG).map(new Set(['orders:read']), []);
    expect(() => (mapped as Set<string>).add('admin:orders')).toThrow(TypeError);
  });

  it('refuses an alias to a scope the API does not have, and conflicting rules', () => {
    expect(() => compileScopeMap({ aliases: { 'orders.read': 'read:order' } }, CATALOG)).toThrow(TypeError);
    expect(() => compileScopeMap({ convention: 'resource:verb', aliases: { 'orders:read': 'admin:orders' } }, CATALOG)).not.toThrow();
  });

  it('lets an alias take precedence over a convention', () => {
    const mapper = compileScopeMap({ convention: 'resource:verb', aliases: { 'orders:read': 'admin:orders' } }, CATALOG);
    expect(sorted(mapper.map(new Set(['orders:read']), []))).toEqual(['admin:orders']);
  });
});

describe('withMappedScopes', () => {
  it('returns a frozen principal with mapped scopes and everything else unchanged', () => {
    const principal: UserPrincipal = Object.freeze({
      kind: 'user',
      subject: 'alice',
      issuer: 'https://as.example',
      clientId: 'app',
      scopes: new Set(['orders:read']),
      audience: ['https://api.example/graphql'],
      expiresAt: 1,
      tokenId: undefined,
      acr: undefined,
      authTime: undefined,
      name: undefined,
    });
    const mapped = withMappedScopes(principal, compileScopeMap({ convention: 'resource:verb' }, CATALOG));
    expect(mapped).toMatchObject({ kind: 'user', subject: 'alice', clientId: 'app', audience: ['https://api.example/graphql'] });
    expect(sorted(mapped.scopes)).toEqual(['read:orders']);
    expect(Object.isFrozen(mapped)).toBe(true);
    expect(withMappedScopes(principal, undefined)).toBe(principal);
  });
});
