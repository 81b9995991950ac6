import { describe, expect, it } from '@jest/globals';
import { bearerChallenge, dpopChallenge, joinChallenges } from '../../../src/auth/www-authenticate.js';

describe('dpopChallenge (RFC 9449 §7.1)', () => {
  it.each<[string, Parameters<typeof dpopChallenge>[0], string]>([
    ['algs only', { algs: ['ES256', 'PS256'] }, 'DPoP algs="ES256 PS256"'],
    ['nothing', { algs: [] }, 'DPoP'],
    [
      'RFC 9449 §7.1 invalid_token example',
      { error: 'invalid_token', errorDescription: 'Invalid DPoP key binding', algs: ['ES256'] },
      'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"',
    ],
    [
      'invalid_dpop_proof with realm',
      { realm: 'api', error: 'invalid_dpop_proof', errorDescription: 'DPoP proof replayed', algs: ['ES256', 'EdDSA'] },
      'DPoP realm="api", error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256 EdDSA"',
    ],
    [
      'insufficient_scope with scope and resource_metadata',
      { error: 'insufficient_scope', scope: ['read:orders'], resourceMetadata: 'https://r', algs: ['ES256'] },
      'DPoP error="insufficient_scope", scope="read:orders", resource_metadata="https://r", algs="ES256"',
    ],
  ])('%s', (_name, params, expected) => {
    expect(dpopChallenge(params)).toBe(expected);
  });

  it('drops alg values that are not tokens and cannot inject header lines', () => {
    const header = dpopChallenge({ realm: 'x\r\nSet-Cookie: a=b', algs: ['ES256', 'bad alg', 'x"y', 'a\r\nb'] });
    expect(header).toBe('DPoP realm="xSet-Cookie: a=b", algs="ES256"');
  });
});

describe('joinChallenges', () => {
  it('offers Bearer and DPoP in one header value (RFC 9110 §11.6.1)', () => {
    expect(joinChallenges(bearerChallenge({ realm: 'api' }), dpopChallenge({ realm: 'api', algs: ['ES256'] }))).toBe('Bearer realm="api", DPoP realm="api", algs="ES256"');
  });

  it('skips absent challenges', () => {
    expect(joinChallenges(bearerChallenge({}), undefined)).toBe('Bearer');
  });
});
