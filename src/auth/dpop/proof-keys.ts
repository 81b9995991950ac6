import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DpopProofError } from './dpop-errors.js';

/** How many proof keys {@link proofKey} keeps (a client signs all its proofs with one key). */
export const PROOF_KEYS_KEPT = 10_000;

/**
 * RFC 7638 §3: the SHA-256 thumbprint of a public JWK, over its required members in
 * lexicographic order (EC: crv, kty, x, y; RSA: e, kty, n; OKP: crv, kty, x), base64url.
 *
 * @throws {DpopProofError} `invalid_key` when a required member is missing, not a string or empty,
 * or the key type is not EC, RSA or OKP.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  let members: Record<string, unknown>;
  switch (jwk['kty']) {
    case 'EC':
      members = { crv: jwk['crv'], kty: 'EC', x: jwk['x'], y: jwk['y'] };
      break;
    case 'RSA':
      members = { e: jwk['e'], kty: 'RSA', n: jwk['n'] };
      break;
    case 'OKP':
      members = { crv: jwk['crv'], kty: 'OKP', x: jwk['x'] };
      break;
    default:
      throw new DpopProofError('invalid_key');
  }
  for (const value of Object.values(members)) if (typeof value !== 'string' || value.length === 0) throw new DpopProofError('invalid_key');
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

// By thumbprint: JWKs with the same thumbprint have the same required members, so the same key.
const keys = new LRUCache<string, KeyObject>({ max: PROOF_KEYS_KEPT });

/**
 * The public key of a proof's JWK, imported once per key and kept by its thumbprint (the
 * import costs more than the signature check; see docs/BENCHMARKS.md).
 *
 * @param thumbprint The JWK's {@link jwkThumbprint}.
 * @throws {DpopProofError} `invalid_key` when node:crypto cannot import it.
 */
export function proofKey(jwk: Readonly<Record<string, unknown>>, thumbprint: string): KeyObject {
  const kept = keys.get(thumbprint);
  if (kept !== undefined) return kept;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new DpopProofError('invalid_key', { cause });
  }
  keys.set(thumbprint, key);
  return key;
}
