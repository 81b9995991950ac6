import { describe, expect, it } from '@jest/globals';
import { principalFromClaims } from '../../../src/auth/claims-principal.js';
import { TokenError } from '../../../src/auth/token-error.js';

const ISSUER = 'https://as.example';

describe('principalFromClaims', () => {
  it.each<[string, Record<string, unknown>, 'user' | 'client', string, string | undefined]>([
    ['sub equals client_id', { sub: 'svc', client_id: 'svc' }, 'client', 'svc', 'svc'],
    ['no sub', { client_id: 'svc' }, 'client', 'svc', 'svc'],
    ['no sub, azp only', { azp: 'svc' }, 'client', 'svc', 'svc'],
    ['no sub, Okta cid only', { cid: 'svc' }, 'client', 'svc', 'svc'],
    ['sub equals azp', { sub: 'svc', azp: 'svc' }, 'client', 'svc', 'svc'],
    ['user with client_id', { sub: 'alice', client_id: 'web' }, 'user', 'alice', 'web'],
    ['user with azp', { sub: 'alice', azp: 'web' }, 'user', 'alice', 'web'],
    ['user without any client id', { sub: 'alice' }, 'user', 'alice', undefined],
    ['client_id wins over azp and cid', { sub: 'alice', client_id: 'a', azp: 'b', cid: 'c' }, 'user', 'alice', 'a'],
    ['non-string client_id falls back to azp', { sub: 'svc', client_id: 7, azp: 'svc' }, 'client', 'svc', 'svc'],
  ])('%s', (_name, claims, kind, subject, clientId) => {
    const principal = principalFromClaims(claims, ISSUER);
    expect(principal.kind).toBe(kind);
    expect(principal.subject).toBe(subject);
    expect(principal.clientId).toBe(clientId);
    expect(principal.issuer).toBe(ISSUER);
  });

  it('copies the descriptive claims', () => {
    const principal = principalFromClaims(
      { sub: 'alice', client_id: 'web', aud: 'api', exp: 100, jti: 'j1', acr: 'urn:mace:incommon:iap:silver', auth_time: 50, name: 'Alice', scope: 'a b' },
      ISSUER,
    );
    expect(principal).toMatchObject({ audience: ['api'], expiresAt: 100, tokenId: 'j1', acr: 'urn:mace:incommon:iap:silver', authTime: 50, name: 'Alice' });
    expect([...principal.scopes]).toEqual(['a', 'b']);
  });

  it.each<[Record<string, unknown>, string[]]>([
    [{ aud: 'api' }, ['api']],
    [{ aud: ['api', 'other'] }, ['api', 'other']],
    [{ aud: ['api', 3] }, ['api']],
    [{}, []],
  ])('audience is always a list: %j', (claims, audience) => {
    expect(principalFromClaims({ sub: 'alice', ...claims }, ISSUER).audience).toEqual(audience);
  });

  it('falls back to preferred_username for the name', () => {
    expect(principalFromClaims({ sub: 'alice', preferred_username: 'alice1' }, ISSUER).name).toBe('alice1');
    expect(principalFromClaims({ sub: 'alice', name: 'Alice', preferred_username: 'alice1' }, ISSUER).name).toBe('Alice');
  });

  it('is frozen, including its audience and scopes', () => {
    const principal = principalFromClaims({ sub: 'alice', aud: ['api'], scope: 'a' }, ISSUER);
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.audience)).toBe(true);
    expect(() => (principal.scopes as Set<string>).add('admin')).toThrow(TypeError);
    expect(() => {
      (principal as { kind: string }).kind = 'client';
    }).toThrow(TypeError);
  });

  it('refuses a token that names nobody', () => {
    expect(() => principalFromClaims({ scope: 'a' }, ISSUER)).toThrow(expect.objectContaining({ reason: 'missing_claim' }));
  });

  it('refuses a non-string sub', () => {
    let caught: unknown;
    try {
      principalFromClaims({ sub: 42, client_id: 'svc' }, ISSUER);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenError);
    expect((caught as TokenError).reason).toBe('invalid_claim');
  });
});
