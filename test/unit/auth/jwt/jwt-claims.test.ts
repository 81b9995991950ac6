import { describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { checkJwtClaims, type JwtClaimsPolicy } from '../../../../src/auth/jwt/jwt-claims.js';
import { checkTokenTimes } from '../../../../src/auth/token-times.js';
import { TokenError } from '../../../../src/auth/token-error.js';

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';
const NOW = 1_900_000_000;
const POLICY: JwtClaimsPolicy = { issuer: ISSUER, audiences: [AUDIENCE], requiredClaims: ['iss', 'exp', 'aud'], toleranceSec: 30 };

const segment = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function reason(payload: string, policy: JwtClaimsPolicy = POLICY): string {
  try {
    checkJwtClaims(payload, policy, NOW);
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
}

const valid = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: NOW, exp: NOW + 300 };

describe('checkJwtClaims', () => {
  it('returns the claims set of a valid token', () => {
    expect(checkJwtClaims(segment(valid), POLICY, NOW)).toEqual(valid);
  });

  it('refuses a payload that is not strict UTF-8 JSON naming an object: malformed', () => {
    expect(reason(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url'))).toBe('malformed');
    expect(reason(segment('{"iss":'))).toBe('malformed');
    expect(reason(segment([valid]))).toBe('malformed');
    expect(reason(segment(null))).toBe('malformed');
    expect(reason(segment(42))).toBe('malformed');
  });

  it('checks presence before values, inherited properties not counting', () => {
    expect(reason(segment({ ...valid, iss: undefined, exp: 'x' }))).toBe('missing_claim');
    expect(reason(segment({ aud: AUDIENCE, exp: NOW + 60, ['__proto__']: { iss: ISSUER } }))).toBe('missing_claim');
    expect(reason(segment({ ...valid, jti: undefined }), { ...POLICY, requiredClaims: ['jti'] })).toBe('missing_claim');
    expect(reason(segment({ ...valid, iat: undefined }), { ...POLICY, maxTokenAgeSec: 60 })).toBe('missing_claim');
  });

  it('compares iss exactly and aud as a string or a list of strings', () => {
    expect(reason(segment({ ...valid, iss: `${ISSUER}/` }))).toBe('wrong_issuer');
    expect(reason(segment({ ...valid, aud: ['other', AUDIENCE] }))).toBe('accepted');
    expect(reason(segment({ ...valid, aud: ['other'] }))).toBe('wrong_audience');
    expect(reason(segment({ ...valid, aud: { [AUDIENCE]: true } }))).toBe('wrong_audience');
    expect(reason(segment({ ...valid, aud: AUDIENCE, iss: ISSUER }), { ...POLICY, audiences: ['a', AUDIENCE] })).toBe('accepted');
  });

  it('takes the leeway on exp, nbf and iat at their edges', () => {
    expect(reason(segment({ ...valid, exp: NOW - 30 }))).toBe('expired');
    expect(reason(segment({ ...valid, exp: NOW - 29 }))).toBe('accepted');
    expect(reason(segment({ ...valid, nbf: NOW + 30 }))).toBe('accepted');
    expect(reason(segment({ ...valid, nbf: NOW + 31 }))).toBe('not_yet_valid');
    expect(reason(segment({ ...valid, iat: NOW + 31 }))).toBe('issued_in_future');
    expect(reason(segment({ ...valid, iat: NOW - 90 }), { ...POLICY, maxTokenAgeSec: 60 })).toBe('accepted');
    expect(reason(segment({ ...valid, iat: NOW - 91 }), { ...POLICY, maxTokenAgeSec: 60 })).toBe('too_old');
  });
});

/**
 * checkJwtClaims replaced jose's claim checks (jwtVerify) followed by checkTokenTimes. The old
 * path is kept here as the oracle: jose's UnsecuredJWT.decode runs the very claim validation
 * jwtVerify runs, with the options the verifier passed it. Over every combination below both must
 * give the same reason.
 */
describe('checkJwtClaims: the same outcome as jose\'s claim checks, over a grid of claim sets', () => {
  function oracle(claims: Record<string, unknown>, maxTokenAgeSec: number | undefined): string {
    const jwt = `${segment({ alg: 'none' })}.${segment(claims)}.`;
    try {
      const { payload } = UnsecuredJWT.decode(jwt, {
        issuer: ISSUER,
        audience: [AUDIENCE],
        clockTolerance: 30,
        requiredClaims: ['iss', 'exp', 'aud'],
        currentDate: new Date(NOW * 1000),
        ...(maxTokenAgeSec !== undefined ? { maxTokenAge: maxTokenAgeSec } : {}),
      });
      checkTokenTimes(payload, { nowSec: NOW, toleranceSec: 30 });
      return 'accepted';
    } catch (error) {
      if (error instanceof TokenError) return error.reason;
      return joseReason(error as { code?: string; claim?: string; reason?: string });
    }
  }

  // How the verifier translated jose's claim errors before checkJwtClaims.
  function joseReason({ code, claim, reason: why }: { code?: string; claim?: string; reason?: string }): string {
    if (code === 'ERR_JWT_EXPIRED') return claim === 'iat' ? 'too_old' : 'expired';
    if (code !== 'ERR_JWT_CLAIM_VALIDATION_FAILED') return 'malformed';
    if (why === 'missing') return 'missing_claim';
    if (why === 'check_failed') {
      const byClaim: Record<string, string> = { iat: 'issued_in_future', nbf: 'not_yet_valid', iss: 'wrong_issuer', aud: 'wrong_audience' };
      if (claim !== undefined && byClaim[claim] !== undefined) return byClaim[claim];
    }
    return 'invalid_claim';
  }

  const absent = Symbol('absent');
  const choices = {
    iss: [ISSUER, 'https://other.example', absent, 5],
    aud: [AUDIENCE, ['other', AUDIENCE], ['other'], 7, absent, [7], []],
    exp: [absent, NOW - 31, NOW - 30, NOW - 29, NOW + 300, 'soon', 1e300, -1e300],
    nbf: [absent, NOW + 30, NOW + 31, 'later', 1e300],
    iat: [absent, NOW, NOW + 30, NOW + 31, NOW - 3631, NOW - 3630, 'then', 1e300],
  } as const;

  it('agrees on every one', () => {
    let compared = 0;
    const disagreements: string[] = [];
    for (const iss of choices.iss)
      for (const aud of choices.aud)
        for (const exp of choices.exp)
          for (const nbf of choices.nbf)
            for (const iat of choices.iat)
              for (const maxTokenAgeSec of [undefined, 3600]) {
                const claims: Record<string, unknown> = { sub: 'alice' };
                for (const [name, value] of Object.entries({ iss, aud, exp, nbf, iat })) if (value !== absent) claims[name] = value;
                const ours = reason(segment(claims), { ...POLICY, maxTokenAgeSec });
                const theirs = oracle(claims, maxTokenAgeSec);
                compared += 1;
                if (ours !== theirs) disagreements.push(`${JSON.stringify(claims)} maxTokenAge=${maxTokenAgeSec}: ours ${ours}, jose ${theirs}`);
              }
    expect(compared).toBe(4 * 7 * 8 * 5 * 8 * 2);
    expect(disagreements.slice(0, 10)).toEqual([]);
  });
});
