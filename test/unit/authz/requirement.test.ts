import { describe, expect, it } from '@jest/globals';
import { ANONYMOUS, type ClientPrincipal, type UserPrincipal } from '../../../src/auth/principal.js';
import { combine, describeRequirement, evaluate, requirement } from '../../../src/authz/requirement.js';

function user(scopes: string[]): UserPrincipal {
  return {
    kind: 'user', subject: 'alice', issuer: 'https://as.test', clientId: 'app', scopes: new Set(scopes), audience: ['api'],
    expiresAt: undefined, tokenId: undefined, acr: undefined, authTime: undefined, name: undefined,
  };
}
function client(scopes: string[]): ClientPrincipal {
  return { ...user(scopes), kind: 'client', subject: 'app' };
}

describe('requirement', () => {
  it('allows everyone when nothing is required', () => {
    expect(evaluate(requirement({}), ANONYMOUS).allowed).toBe(true);
  });

  it('answers no_token for an anonymous caller on a scoped field', () => {
    const d = evaluate(requirement({ scopes: [['read:orders']] }), ANONYMOUS);
    expect(d).toMatchObject({ allowed: false, reason: 'no_token', requiredScopes: ['read:orders'], missingScopes: ['read:orders'] });
  });

  it('matches scopes exactly, never as substrings or prefixes', () => {
    const r = requirement({ scopes: [['read:orders']] });
    expect(evaluate(r, user(['read:order', 'read:orders:all', 'READ:ORDERS', 'read:orders '])).allowed).toBe(false);
    expect(evaluate(r, user(['read:orders'])).allowed).toBe(true);
  });

  it('requires every scope of an AND and any alternative of an OR', () => {
    const r = requirement({ scopes: [['read:orders', 'read:profile'], ['admin:orders']] });
    expect(evaluate(r, user(['read:orders'])).allowed).toBe(false);
    expect(evaluate(r, user(['read:orders', 'read:profile'])).allowed).toBe(true);
    expect(evaluate(r, user(['admin:orders'])).allowed).toBe(true);
  });

  it('reports the alternative with the fewest missing scopes', () => {
    const r = requirement({ scopes: [['a', 'b', 'c'], ['d', 'e']] });
    const d = evaluate(r, user(['a', 'b']));
    expect(d).toMatchObject({ allowed: false, reason: 'insufficient_scope', missingScopes: ['c'], requiredScopes: ['a', 'b', 'c'] });
    expect(d.allowed === false && d.acceptedScopeSets).toEqual([['d', 'e'], ['a', 'b', 'c']]);
  });

  it('combines a type requirement with a field requirement as AND', () => {
    const r = combine(requirement({ scopes: [['read:profile']] }), requirement({ scopes: [['read:email']] }));
    expect(r.scopes).toEqual([['read:email', 'read:profile']]);
    expect(evaluate(r, user(['read:profile'])).allowed).toBe(false);
    expect(evaluate(r, user(['read:profile', 'read:email'])).allowed).toBe(true);
  });

  it('crosses alternatives when combining and drops absorbed ones', () => {
    const r = combine(requirement({ scopes: [['a'], ['b']] }), requirement({ scopes: [['a']] }));
    expect(r.scopes).toEqual([['a']]);
  });

  it('refuses a client token where a user token is required', () => {
    const r = requirement({ scopes: [['write:orders']], user: true });
    expect(evaluate(r, client(['write:orders']))).toMatchObject({ allowed: false, reason: 'user_required' });
    expect(evaluate(r, user(['write:orders'])).allowed).toBe(true);
    expect(evaluate(r, ANONYMOUS)).toMatchObject({ allowed: false, reason: 'no_token' });
  });

  it('describes requirements for documentation', () => {
    expect(describeRequirement(requirement({ scopes: [['read:orders', 'read:profile'], ['admin:orders']] }))).toBe('admin:orders OR (read:orders AND read:profile)');
    expect(describeRequirement(requirement({ authenticated: true }))).toBe('any valid token');
  });
});
