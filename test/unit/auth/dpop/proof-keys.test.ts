import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { DpopProofError } from '../../../../src/auth/dpop/dpop-errors.js';
import { jwkThumbprint, proofKey } from '../../../../src/auth/dpop/proof-keys.js';

const jwkOf = (pair: { publicKey: { export(options: { format: 'jwk' }): object } }) => pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;

const reasonOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof DpopProofError) return error.reason;
    throw error;
  }
};

describe('jwkThumbprint (RFC 7638)', () => {
  it('gives the RFC 7638 §3.1 example thumbprint', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each([
    ['EC P-256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['OKP Ed25519', () => generateKeyPairSync('ed25519')],
  ])('agrees with jose for %s keys, whatever other members the JWK has', async (_name, generate) => {
    const jwk = { ...jwkOf(generate()), alg: 'whatever', use: 'sig', key_ops: ['verify'] };
    expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk as JWK, 'sha256'));
  });

  it('refuses a JWK missing a required member, with one that is not a string, or of another key type', () => {
    const ec = jwkOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    expect(reasonOf(() => jwkThumbprint({ ...ec, y: undefined }))).toBe('invalid_key');
    expect(reasonOf(() => jwkThumbprint({ ...ec, x: 42 }))).toBe('invalid_key');
    expect(reasonOf(() => jwkThumbprint({ ...ec, crv: '' }))).toBe('invalid_key');
    expect(reasonOf(() => jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' }))).toBe('invalid_key');
    expect(reasonOf(() => jwkThumbprint({ kty: 'toString' }))).toBe('invalid_key');
  });
});

describe('proofKey', () => {
  it('imports a key once and hands out the same KeyObject for the same key', () => {
    const jwk = jwkOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    const first = proofKey(jwk, jwkThumbprint(jwk));
    expect(first.type).toBe('public');
    expect(proofKey({ ...jwk, kid: 'another member' }, jwkThumbprint(jwk))).toBe(first);
  });

  it('refuses a point that is not on the curve, and does not keep the failure', () => {
    const jwk = jwkOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    const offCurve = { ...jwk, y: Buffer.alloc(32, 1).toString('base64url') };
    expect(reasonOf(() => proofKey(offCurve, jwkThumbprint(offCurve)))).toBe('invalid_key');
    expect(reasonOf(() => proofKey(offCurve, jwkThumbprint(offCurve)))).toBe('invalid_key');
  });
});
