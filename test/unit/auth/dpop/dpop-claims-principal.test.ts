import { describe, expect, it } from '@jest/globals';
import { principalFromClaims } from '../../../../src/auth/claims-principal.js';
import { TokenError } from '../../../../src/auth/token-error.js';

const ISSUER = 'https://as.example';
const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';

function reasonOf(claims: Record<string, unknown>): string {
  try {
    principalFromClaims(claims, ISSUER);
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('principalFromClaims: DPoP confirmation (RFC 9449 §6.1)', () => {
  it('reads cnf.jkt as confirmationJkt', () => {
    expect(principalFromClaims({ client_id: 'svc', cnf: { jkt: JKT } }, ISSUER).confirmationJkt).toBe(JKT);
  });

  it('leaves confirmationJkt out of unbound tokens', () => {
    const principal = principalFromClaims({ sub: 'alice', client_id: 'web' }, ISSUER);
    expect(principal.confirmationJkt).toBeUndefined();
    expect('confirmationJkt' in principal).toBe(false);
  });

  it.each<[string, unknown]>([
    ['cnf that is not an object', 'bound'],
    ['cnf as an array', [JKT]],
    ['cnf.jkt that is not a string', { jkt: 42 }],
    ['an empty cnf.jkt', { jkt: '' }],
    ['cnf.jkt that is not base64url', { jkt: 'a b' }],
    ['only a confirmation method we do not verify (mTLS)', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
  ])('refuses a token with %s instead of treating it as a bearer token', (_name, cnf) => {
    expect(reasonOf({ client_id: 'svc', cnf })).toBe('invalid_claim');
  });
});
