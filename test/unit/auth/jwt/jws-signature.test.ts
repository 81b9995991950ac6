import { beforeAll, describe, expect, it } from '@jest/globals';
import { KeyObject, constants, generateKeyPairSync, sign } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { ASYMMETRIC_ALGORITHMS } from '../../../../src/auth/jws-algorithms.js';
import { SIGNATURE_ALGORITHMS, UnusableKeyError, verifyJwsSignature } from '../../../../src/auth/jwt/jws-signature.js';

interface Signed {
  readonly publicKey: CryptoKey;
  readonly input: Buffer;
  readonly signature: Buffer;
}

/** verifyJwsSignature over bytes: the signing input as ASCII, the signature as base64url, as a compact JWS carries them. */
const check = (alg: string, key: unknown, input: Uint8Array, signature: Uint8Array) =>
  verifyJwsSignature(alg, key, Buffer.from(input).toString('latin1'), Buffer.from(signature).toString('base64url'));

const signed = new Map<string, Signed>();

/** Signs with jose (WebCrypto): the signatures an authorization server's library makes. */
async function signWithJose(alg: string): Promise<Signed> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jws = await new CompactSign(Buffer.from('{"sub":"alice"}')).setProtectedHeader({ alg }).sign(privateKey);
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  return { publicKey, input: Buffer.from(`${header}.${payload}`, 'latin1'), signature: Buffer.from(signature, 'base64url') };
}

beforeAll(async () => {
  for (const alg of SIGNATURE_ALGORITHMS) signed.set(alg, await signWithJose(alg));
});

const of = (alg: string): Signed => signed.get(alg)!;

describe('verifyJwsSignature: every accepted algorithm', () => {
  it('knows exactly the asymmetric algorithms tokens may use', () => {
    expect([...SIGNATURE_ALGORITHMS].sort()).toEqual([...ASYMMETRIC_ALGORITHMS].sort());
  });

  it.each(ASYMMETRIC_ALGORITHMS)('%s: accepts jose\'s signature with the CryptoKey and with its KeyObject', async (alg) => {
    const { publicKey, input, signature } = of(alg);
    expect(await check(alg, publicKey, input, signature)).toBe(true);
    expect(await check(alg, KeyObject.from(publicKey), input, signature)).toBe(true);
  });

  it.each(ASYMMETRIC_ALGORITHMS)('%s: refuses another input, a flipped bit, a cut or an empty signature', async (alg) => {
    const { publicKey, input, signature } = of(alg);
    const other = Buffer.from(input);
    other[other.length - 1] = other[other.length - 1] === 0x41 ? 0x42 : 0x41;
    expect(await check(alg, publicKey, other, signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[flipped.length >> 1]! ^= 0x01;
    expect(await check(alg, publicKey, input, flipped)).toBe(false);
    expect(await check(alg, publicKey, input, signature.subarray(0, signature.length - 1))).toBe(false);
    expect(await check(alg, publicKey, input, Buffer.alloc(0))).toBe(false);
  });

  it.each(ASYMMETRIC_ALGORITHMS)('%s: refuses the signature of another key of the same kind', async (alg) => {
    const { input, signature } = of(alg);
    const stranger = await signWithJose(alg);
    expect(await check(alg, stranger.publicKey, input, signature)).toBe(false);
  });
});

describe('verifyJwsSignature: the signature forms RFC 7518 fixes', () => {
  it('ES256: refuses a DER-encoded signature (JWS uses r || s, RFC 7518 §3.4)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.e30', 'latin1');
    const der = sign('sha256', input, privateKey);
    const raw = sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(await check('ES256', publicKey, input, raw)).toBe(true);
    expect(await check('ES256', publicKey, input, der)).toBe(false);
  });

  it('PS256: refuses a PSS signature whose salt is not the digest length (RFC 7518 §3.5)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = Buffer.from('eyJhbGciOiJQUzI1NiJ9.e30', 'latin1');
    const pss = (saltLength: number) => sign('sha256', input, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    expect(await check('PS256', publicKey, input, pss(32))).toBe(true);
    expect(await check('PS256', publicKey, input, pss(20))).toBe(false);
    expect(await check('PS256', publicKey, input, pss(0))).toBe(false);
  });

  it('RS256 and PS256 do not stand in for each other with the same RSA key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.e30', 'latin1');
    const pkcs1 = sign('sha256', input, privateKey);
    const pss = sign('sha256', input, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    expect(await check('RS256', publicKey, input, pkcs1)).toBe(true);
    expect(await check('PS256', publicKey, input, pkcs1)).toBe(false);
    expect(await check('RS256', publicKey, input, pss)).toBe(false);
    expect(await check('RS384', publicKey, input, pkcs1)).toBe(false);
  });
});

describe('verifyJwsSignature: keys that cannot verify the algorithm', () => {
  const unusable = (alg: string, key: unknown) => check(alg, key, Buffer.from('a.b'), Buffer.from('c'));

  it('refuses an algorithm it does not know, HMAC and none included, whatever the key', async () => {
    for (const alg of ['HS256', 'none', 'RSA-OAEP', '__proto__', 'toString', '']) {
      await expect(unusable(alg, of('RS256').publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
    }
  });

  it('refuses a secret, a JWK object, a string or nothing as the key', async () => {
    const jwk = await exportJWK(of('RS256').publicKey);
    for (const key of [new Uint8Array(32), jwk, 'secret', undefined, null]) {
      await expect(unusable('RS256', key)).rejects.toBeInstanceOf(UnusableKeyError);
    }
  });

  it('refuses a key of another type or curve than the algorithm names', async () => {
    await expect(unusable('RS256', of('ES256').publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('ES256', of('RS256').publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('ES256', of('ES384').publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('ES512', KeyObject.from(of('ES256').publicKey))).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('EdDSA', KeyObject.from(of('ES256').publicKey))).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('ES256', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
  });

  it('refuses a CryptoKey imported for another algorithm (hash or padding), as jose does', async () => {
    const jwk = await exportJWK(of('RS256').publicKey);
    const forRs384 = (await importJWK({ ...jwk, alg: 'RS384' }, 'RS384')) as CryptoKey;
    const forPs256 = (await importJWK({ ...jwk, alg: 'PS256' }, 'PS256')) as CryptoKey;
    await expect(unusable('RS256', forRs384)).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('RS256', forPs256)).rejects.toBeInstanceOf(UnusableKeyError);
    const { input, signature } = of('RS256');
    // The same key material as a KeyObject carries no algorithm: only its type and size count.
    expect(await check('RS256', KeyObject.from(forRs384), input, signature)).toBe(true);
  });

  it('refuses an RSA key under 2048 bits (RFC 7518 §3.3)', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expect(unusable('RS256', publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
    await expect(unusable('PS256', publicKey)).rejects.toBeInstanceOf(UnusableKeyError);
  });

  it('refuses a private key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await expect(unusable('ES256', privateKey)).rejects.toBeInstanceOf(UnusableKeyError);
  });

  it('refuses a CryptoKey without the verify usage', async () => {
    const { publicKey } = of('ES256');
    const jwk = await exportJWK(publicKey);
    const noVerify = await globalThis.crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, []);
    await expect(unusable('ES256', noVerify)).rejects.toBeInstanceOf(UnusableKeyError);
  });
});
