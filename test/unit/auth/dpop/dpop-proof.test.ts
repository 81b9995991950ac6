import { describe, expect, it } from '@jest/globals';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { CompactSign, exportJWK, SignJWT } from 'jose';
import { DpopProofError } from '../../../../src/auth/dpop/dpop-errors.js';
import { accessTokenHash, type DpopProofExpectations, type DpopProofOptions, MAX_DPOP_PROOF_LENGTH, verifyDpopProof } from '../../../../src/auth/dpop/dpop-proof.js';
import { createDpopKey, type DpopKey, type DpopProofInput, signDpopProof } from '../../../fixtures/authorization-server.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;
const URL_ = 'https://api.example/graphql';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const EXPECTED: DpopProofExpectations = { method: 'POST', urls: [URL_], accessToken: TOKEN };
const OPTIONS: DpopProofOptions = { currentDate: NOW };

const es256 = await createDpopKey('ES256');
const other = await createDpopKey('ES256');

function proof(overrides: Partial<DpopProofInput> = {}, key: DpopKey = es256): Promise<string> {
  return signDpopProof(key, { htm: 'POST', htu: URL_, accessToken: TOKEN, iat: NOW_SEC, ...overrides });
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DpopProofError) return error.reason;
    throw error;
  }
  return 'accepted';
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  it('accepts a well-formed proof and returns the key thumbprint, jti and iat window', async () => {
    const verified = await verifyDpopProof(await proof({ jti: 'jti-1' }), EXPECTED, OPTIONS);
    expect(verified).toEqual({ jkt: es256.jkt, jti: 'jti-1', issuedAt: NOW_SEC, acceptableUntil: NOW_SEC + 60 });
  });

  it.each(['RS256', 'PS256', 'EdDSA', 'ES384'] as const)('accepts a %s proof', async (alg) => {
    const key = await createDpopKey(alg);
    expect((await verifyDpopProof(await proof({}, key), EXPECTED, OPTIONS)).jkt).toBe(key.jkt);
  });

  describe('step 2: a well-formed JWT', () => {
    it.each([
      ['not a JWS', 'not-a-jwt'],
      ['two parts', 'a.b'],
      ['empty', ''],
      ['header not JSON', `${Buffer.from('nope').toString('base64url')}.${b64({})}.c2ln`],
      ['header a JSON array', `${b64([1])}.${b64({})}.c2ln`],
      ['non-base64url characters', 'a+b.c/d.e=f'],
    ])('refuses %s as malformed', async (_name, value) => {
      expect(await reasonOf(verifyDpopProof(value, EXPECTED, OPTIONS))).toBe('malformed');
    });

    it('refuses an oversized proof before parsing it', async () => {
      expect(await reasonOf(verifyDpopProof('a'.repeat(MAX_DPOP_PROOF_LENGTH + 1), EXPECTED, OPTIONS))).toBe('too_large');
    });
  });

  describe('step 4: typ is dpop+jwt', () => {
    it.each([['JWT'], ['at+jwt'], ['dpop'], [undefined]])('refuses typ %j', async (typ) => {
      expect(await reasonOf(verifyDpopProof(await proof({ header: { typ } }), EXPECTED, OPTIONS))).toBe('wrong_type');
    });

    it('compares typ as a media type (RFC 7515 §4.1.9)', async () => {
      expect(await reasonOf(verifyDpopProof(await proof({ header: { typ: 'application/DPoP+JWT' } }), EXPECTED, OPTIONS))).toBe('accepted');
    });
  });

  describe('step 5: alg is an allowed asymmetric algorithm', () => {
    it('refuses HS256 signed with a shared secret', async () => {
      const secret = new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!');
      const forged = await new SignJWT({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'x', ath: 'y' })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } } as { alg: string })
        .sign(secret);
      expect(await reasonOf(verifyDpopProof(forged, EXPECTED, OPTIONS))).toBe('alg_not_allowed');
    });

    it('refuses alg none', async () => {
      const header = b64({ alg: 'none', typ: 'dpop+jwt', jwk: es256.publicJwk });
      const claims = b64({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'x', ath: 'y' });
      expect(await reasonOf(verifyDpopProof(`${header}.${claims}.AA`, EXPECTED, OPTIONS))).toBe('alg_not_allowed');
    });

    it('refuses an asymmetric algorithm left out of the configured list', async () => {
      const rsa = await createDpopKey('RS256');
      expect(await reasonOf(verifyDpopProof(await proof({}, rsa), EXPECTED, { ...OPTIONS, algorithms: ['ES256'] }))).toBe('alg_not_allowed');
    });

    it('refuses a configuration that allows HMAC', async () => {
      await expect(verifyDpopProof(await proof(), EXPECTED, { ...OPTIONS, algorithms: ['ES256', 'HS256'] })).rejects.toThrow(TypeError);
    });
  });

  it('refuses critical header extensions it does not understand', async () => {
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'x', ath: 'y' })))
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: es256.publicJwk, crit: ['urn:example:ext'], 'urn:example:ext': true })
      .sign(es256.privateKey, { crit: { 'urn:example:ext': true } });
    expect(await reasonOf(verifyDpopProof(forged, EXPECTED, OPTIONS))).toBe('crit_unsupported');
  });

  describe('steps 6 and 7: the embedded jwk is a public key that verifies the signature', () => {
    it('refuses a proof carrying the private key in jwk', async () => {
      const privateJwk = await exportJWK(es256.privateKey);
      expect(await reasonOf(verifyDpopProof(await proof({ header: { jwk: privateJwk } }), EXPECTED, OPTIONS))).toBe('private_key');
    });

    it.each([
      ['no jwk', undefined],
      ['a jwk that is not an object', 'key'],
      ['a symmetric jwk', { kty: 'oct' }],
      ['a jwk without kty', { x: 'a', y: 'b' }],
    ])('refuses %s', async (_name, jwk) => {
      expect(await reasonOf(verifyDpopProof(await proof({ header: { jwk } }), EXPECTED, OPTIONS))).toBe('invalid_key');
    });

    it('honours the jwk\'s key_ops: a key not stated for verifying is refused (RFC 7517 §4.3)', async () => {
      const withOps = (key_ops: unknown) => proof({ header: { jwk: { ...es256.publicJwk, key_ops } } });
      expect(await reasonOf(verifyDpopProof(await withOps(['verify']), EXPECTED, OPTIONS))).toBe('accepted');
      expect(await reasonOf(verifyDpopProof(await withOps(['sign']), EXPECTED, OPTIONS))).toBe('invalid_key');
      expect(await reasonOf(verifyDpopProof(await withOps('verify'), EXPECTED, OPTIONS))).toBe('invalid_key');
    });

    it('refuses a key the alg cannot use: an X25519 jwk with EdDSA, a P-256 jwk with ES384', async () => {
      // Built by hand: jose will not sign with a key that does not fit alg. The key is refused before the signature matters.
      const claims = b64({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'x', ath: accessTokenHash(TOKEN) });
      const unsigned = (header: Record<string, unknown>) => `${b64({ typ: 'dpop+jwt', ...header })}.${claims}.c2ln`;
      const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
      expect(await reasonOf(verifyDpopProof(unsigned({ alg: 'EdDSA', jwk: x25519 }), EXPECTED, OPTIONS))).toBe('invalid_key');
      expect(await reasonOf(verifyDpopProof(unsigned({ alg: 'ES384', jwk: es256.publicJwk }), EXPECTED, OPTIONS))).toBe('invalid_key');
      expect(await reasonOf(verifyDpopProof(unsigned({ alg: 'ES256', jwk: es256.publicJwk }), EXPECTED, OPTIONS))).toBe('bad_signature');
    });

    it('refuses a key that does not fit alg (an RSA jwk with ES256)', async () => {
      const rsa = await createDpopKey('RS256');
      expect(await reasonOf(verifyDpopProof(await proof({ header: { jwk: rsa.publicJwk } }), EXPECTED, OPTIONS))).toBe('invalid_key');
    });

    it('refuses a proof signed by another key than the embedded one', async () => {
      expect(await reasonOf(verifyDpopProof(await proof({ header: { jwk: other.publicJwk } }), EXPECTED, OPTIONS))).toBe('bad_signature');
    });

    it('refuses a proof whose claims were altered after signing', async () => {
      const [header, , signature] = (await proof()).split('.');
      const altered = b64({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'another', ath: 'x' });
      expect(await reasonOf(verifyDpopProof(`${header}.${altered}.${signature}`, EXPECTED, OPTIONS))).toBe('bad_signature');
    });

    it('refuses an RSA key shorter than 2048 bits', async () => {
      // Signed with node:crypto: jose itself refuses to sign with such a key.
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const header = b64({ alg: 'RS256', typ: 'dpop+jwt', jwk: publicKey.export({ format: 'jwk' }) });
      const claims = b64({ htm: 'POST', htu: URL_, iat: NOW_SEC, jti: 'x', ath: accessTokenHash(TOKEN) });
      const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey).toString('base64url');
      expect(await reasonOf(verifyDpopProof(`${header}.${claims}.${signature}`, EXPECTED, OPTIONS))).toBe('invalid_key');
    });
  });

  describe('step 3: required claims', () => {
    it.each(['jti', 'htm', 'htu', 'iat', 'ath'])('refuses a proof without %s', async (claim) => {
      expect(await reasonOf(verifyDpopProof(await proof({ claims: { [claim]: undefined } }), EXPECTED, OPTIONS))).toBe('missing_claim');
    });

    it.each([
      ['iat as a string', { iat: String(NOW_SEC) }],
      ['an empty jti', { jti: '' }],
      ['a very long jti', { jti: 'j'.repeat(300) }],
      ['htm as a number', { htm: 1 }],
      ['htu that is not a URL', { htu: 'graphql' }],
      ['htu with another scheme', { htu: 'ftp://api.example/graphql' }],
    ])('refuses %s', async (_name, claims) => {
      expect(await reasonOf(verifyDpopProof(await proof({ claims }), EXPECTED, OPTIONS))).toBe('invalid_claim');
    });
  });

  describe('step 8: htm is the request method', () => {
    it.each(['GET', 'post', 'PUT'])('refuses htm %s for a POST', async (htm) => {
      expect(await reasonOf(verifyDpopProof(await proof({ htm }), EXPECTED, OPTIONS))).toBe('htm_mismatch');
    });
  });

  describe('step 9: htu is the request URL without query and fragment', () => {
    it.each([
      ['another host', 'https://evil.example/graphql'],
      ['another path', 'https://api.example/other'],
      ['another scheme', 'http://api.example/graphql'],
      ['another port', 'https://api.example:8443/graphql'],
      ['a trailing slash', 'https://api.example/graphql/'],
    ])('refuses %s', async (_name, htu) => {
      expect(await reasonOf(verifyDpopProof(await proof({ htu }), EXPECTED, OPTIONS))).toBe('htu_mismatch');
    });

    it.each([
      ['a query and a fragment', 'https://api.example/graphql?op=x#f'],
      ['an upper-case scheme and host', 'HTTPS://API.EXAMPLE/graphql'],
      ['the default port', 'https://api.example:443/graphql'],
      ['dot segments', 'https://api.example/a/../graphql'],
    ])('ignores %s (RFC 3986 §6.2.2, §6.2.3)', async (_name, htu) => {
      expect(await reasonOf(verifyDpopProof(await proof({ htu }), EXPECTED, OPTIONS))).toBe('accepted');
    });

    it('accepts any of the expected URLs', async () => {
      const urls = ['https://api.example/graphql', 'http://127.0.0.1:4000/graphql'];
      expect(await reasonOf(verifyDpopProof(await proof({ htu: 'http://127.0.0.1:4000/graphql' }), { ...EXPECTED, urls }, OPTIONS))).toBe('accepted');
    });
  });

  describe('step 11: iat within the window', () => {
    it.each([
      ['61 s old', -61],
      ['61 s in the future', 61],
      ['an hour old', -3600],
    ])('refuses a proof %s', async (_name, offset) => {
      expect(await reasonOf(verifyDpopProof(await proof({ iat: NOW_SEC + offset }), EXPECTED, OPTIONS))).toBe('iat_out_of_window');
    });

    it.each([-60, 60, 0])('accepts iat now%+d s', async (offset) => {
      expect(await reasonOf(verifyDpopProof(await proof({ iat: NOW_SEC + offset }), EXPECTED, OPTIONS))).toBe('accepted');
    });

    it('uses the configured window', async () => {
      expect(await reasonOf(verifyDpopProof(await proof({ iat: NOW_SEC - 10 }), EXPECTED, { ...OPTIONS, iatWindowSec: 5 }))).toBe('iat_out_of_window');
    });
  });

  describe('step 12: ath is the hash of the presented access token', () => {
    it('refuses a proof made for another access token', async () => {
      expect(await reasonOf(verifyDpopProof(await proof({ accessToken: `${TOKEN}x` }), EXPECTED, OPTIONS))).toBe('ath_mismatch');
    });

    it('refuses an ath that is the token itself rather than its hash', async () => {
      expect(await reasonOf(verifyDpopProof(await proof({ claims: { ath: TOKEN } }), EXPECTED, OPTIONS))).toBe('ath_mismatch');
    });
  });

  it('never puts the proof or the token in its error', async () => {
    const forged = await proof({ accessToken: 'other' });
    const error = await verifyDpopProof(forged, EXPECTED, OPTIONS).catch((e: unknown) => e as DpopProofError);
    expect(error).toBeInstanceOf(DpopProofError);
    expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).not.toContain(TOKEN);
    expect((error as Error).message).not.toContain(forged.slice(0, 20));
  });
});
