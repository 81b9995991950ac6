import { KeyObject, constants, verify, webcrypto, type KeyLike, type VerifyKeyObjectInput, type VerifyPublicKeyInput } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

/**
 * What a JWS algorithm (RFC 7518 §3, RFC 8037 §3.1) needs of its key and its signature, for
 * node:crypto. `webCrypto` is what a WebCrypto key imported for the algorithm says of itself
 * (the form jose's key sets hand out), checked as jose checks it.
 */
interface AlgorithmEntry {
  /** Digest for `crypto.verify`; null for EdDSA, which hashes internally. */
  readonly hash: string | null;
  /** Accepted `KeyObject.asymmetricKeyType` values. */
  readonly keyTypes: readonly string[];
  /** OpenSSL curve name an EC key must have. */
  readonly curve?: string;
  /** RSA-PSS salt length in bytes (RFC 7518 §3.5: the digest's length). */
  readonly pssSaltLength?: number;
  /** RS and PS keys: RFC 7518 §3.3, §3.5 require at least 2048 bits. */
  readonly minRsaBits?: number;
  readonly webCrypto: { readonly name: string; readonly hash?: string; readonly namedCurve?: string };
}

const rsa = (bits: number): AlgorithmEntry => ({
  hash: `sha${bits}`,
  keyTypes: ['rsa'],
  minRsaBits: 2048,
  webCrypto: { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${bits}` },
});
const pss = (bits: number): AlgorithmEntry => ({
  hash: `sha${bits}`,
  keyTypes: ['rsa', 'rsa-pss'],
  pssSaltLength: bits / 8,
  minRsaBits: 2048,
  webCrypto: { name: 'RSA-PSS', hash: `SHA-${bits}` },
});
const ecdsa = (bits: number, curve: string, namedCurve: string): AlgorithmEntry => ({
  hash: `sha${bits}`,
  keyTypes: ['ec'],
  curve,
  webCrypto: { name: 'ECDSA', namedCurve },
});
const eddsa: AlgorithmEntry = { hash: null, keyTypes: ['ed25519'], webCrypto: { name: 'Ed25519' } };

const ALGORITHMS: Readonly<Record<string, AlgorithmEntry>> = Object.freeze({
  RS256: rsa(256),
  RS384: rsa(384),
  RS512: rsa(512),
  PS256: pss(256),
  PS384: pss(384),
  PS512: pss(512),
  ES256: ecdsa(256, 'prime256v1', 'P-256'),
  ES384: ecdsa(384, 'secp384r1', 'P-384'),
  ES512: ecdsa(512, 'secp521r1', 'P-521'),
  EdDSA: eddsa,
  Ed25519: eddsa,
});

/** The JWS algorithms {@link verifyJwsSignature} knows: the asymmetric ones of `ASYMMETRIC_ALGORITHMS`. */
export const SIGNATURE_ALGORITHMS: readonly string[] = Object.freeze(Object.keys(ALGORITHMS));

/** Why a key cannot verify a signature of the algorithm asked for. */
export class UnusableKeyError extends TypeError {
  constructor(alg: string) {
    super(`the key cannot verify ${alg} signatures`);
    this.name = 'UnusableKeyError';
  }
}

// A key set hands out the same CryptoKey object for the same key and algorithm, so its KeyObject
// is made once.
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/**
 * Verifies a JWS signature (RFC 7515 §5.2 step 8) with node:crypto, whose one-shot `verify` with a
 * callback runs the signature arithmetic on libuv's thread pool. Measured on Node 20 with 32
 * verifications in flight, that costs the event loop about 8–12 µs per signature against 25–35 µs
 * for the same signature through WebCrypto (`crypto.subtle.verify`, what jose uses), whose
 * argument handling runs on the event loop. See docs/BENCHMARKS.md.
 *
 * The key must be public and of the algorithm's type: an RSA key of at least 2048 bits for RS*
 * and PS*, an EC key on the algorithm's curve for ES*, an Ed25519 key for EdDSA. A WebCrypto key
 * must also have been imported for this algorithm (name, hash, curve) with the `verify` usage, as
 * jose requires.
 *
 * @param alg The JWS `alg`, already on the caller's allow-list.
 * @param signingInput `BASE64URL(header) '.' BASE64URL(payload)` as it appears in the compact JWS (ASCII).
 * @param encodedSignature The signature segment, base64url (for ES*, `r || s` as RFC 7518 §3.4 defines it).
 * @returns whether the signature is valid; false also when node:crypto refuses the signature's form.
 * @throws {UnusableKeyError} when the key cannot be used for `alg` (nothing is verified then).
 */
export async function verifyJwsSignature(alg: string, key: unknown, signingInput: string, encodedSignature: string): Promise<boolean> {
  const entry = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (entry === undefined) throw new UnusableKeyError(alg);
  const keyObject = usableKey(entry, alg, key);
  const data = Buffer.from(signingInput, 'latin1');
  const signature = Buffer.from(encodedSignature, 'base64url');
  const input: KeyLike | VerifyKeyObjectInput | VerifyPublicKeyInput =
    entry.curve !== undefined
      ? { key: keyObject, dsaEncoding: 'ieee-p1363' }
      : entry.pssSaltLength !== undefined
        ? { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: entry.pssSaltLength }
        : keyObject;
  return new Promise((resolve) => {
    try {
      verify(entry.hash, data, input, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      // A signature node:crypto refuses to parse is not a valid signature.
      resolve(false);
    }
  });
}

function usableKey(entry: AlgorithmEntry, alg: string, key: unknown): KeyObject {
  let keyObject: KeyObject;
  if (key instanceof KeyObject) {
    keyObject = key;
  } else if (isCryptoKey(key)) {
    const { name, hash, namedCurve } = key.algorithm as { name: string; hash?: { name?: string }; namedCurve?: string };
    const expected = entry.webCrypto;
    if (name !== expected.name || (expected.hash !== undefined && hash?.name !== expected.hash) || (expected.namedCurve !== undefined && namedCurve !== expected.namedCurve)) {
      throw new UnusableKeyError(alg);
    }
    if (!key.usages.includes('verify')) throw new UnusableKeyError(alg);
    keyObject = keyObjects.get(key) ?? toKeyObject(key);
  } else {
    throw new UnusableKeyError(alg);
  }
  if (keyObject.type !== 'public') throw new UnusableKeyError(alg);
  const type = keyObject.asymmetricKeyType;
  if (type === undefined || !entry.keyTypes.includes(type)) throw new UnusableKeyError(alg);
  const details = keyObject.asymmetricKeyDetails;
  if (entry.curve !== undefined && details?.namedCurve !== entry.curve) throw new UnusableKeyError(alg);
  if (entry.minRsaBits !== undefined && !((details?.modulusLength ?? 0) >= entry.minRsaBits)) throw new UnusableKeyError(alg);
  return keyObject;
}

function toKeyObject(key: CryptoKey): KeyObject {
  const keyObject = KeyObject.from(key);
  keyObjects.set(key, keyObject);
  return keyObject;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  // By its tag, as jose tells one (a test realm's global CryptoKey is not node:crypto's class).
  return typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'CryptoKey';
}
