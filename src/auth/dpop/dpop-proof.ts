import { createHash } from 'node:crypto';
import { jwkThumbprint, proofKey } from './proof-keys.js';
import { DpopProofError } from './dpop-errors.js';
import { decodeBase64urlJsonObject, isBase64url } from '../../lib/base64url-json.js';
import { ASYMMETRIC_ALGORITHMS } from '../jws-algorithms.js';
import { normalizeMediaType } from '../jwt/jws-header.js';
import { UnusableKeyError, verifyJwsSignature } from '../jwt/jws-signature.js';
import { checkNonNegative } from '../../lib/option-checks.js';

/** The `typ` of a DPoP proof (RFC 9449 §4.2). */
export const DPOP_PROOF_TYPE = 'dpop+jwt';

/** Default accepted proof algorithms: all of {@link ASYMMETRIC_ALGORITHMS}, ES256 first. */
export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = Object.freeze([
  ...ASYMMETRIC_ALGORITHMS.filter((alg) => alg.startsWith('ES')),
  ...ASYMMETRIC_ALGORITHMS.filter((alg) => !alg.startsWith('ES')),
]);

/** Default acceptance window for `iat`, in seconds either side of now. */
export const DEFAULT_DPOP_IAT_WINDOW_SEC = 60;

/** Longest accepted proof, in characters (8 KiB). Longer ones are refused before any parsing. */
export const MAX_DPOP_PROOF_LENGTH = 8192;

/** Longest accepted `jti`, in characters; it is remembered for replay detection. */
export const MAX_DPOP_JTI_LENGTH = 256;

/** What the proof must have been made for. */
export interface DpopProofExpectations {
  /** The request's HTTP method, compared with `htm` exactly (RFC 9110 §9.1: methods are case-sensitive). */
  readonly method: string;
  /**
   * Every URL the request may legitimately have been sent to, without query or fragment (e.g. the
   * public URL and the server's own URL, each followed by the request path). `htu` must equal one
   * of them after RFC 3986 §6.2.2/§6.2.3 normalisation.
   */
  readonly urls: readonly string[];
  /** The access token presented with the proof; `ath` must be its SHA-256, base64url-encoded. */
  readonly accessToken: string;
}

/** Options for {@link verifyDpopProof}. */
export interface DpopProofOptions {
  /** Accepted `alg` values; asymmetric only (see {@link ASYMMETRIC_ALGORITHMS}). Default: {@link DEFAULT_DPOP_ALGORITHMS}. */
  readonly algorithms?: readonly string[];
  /** Accepted distance between `iat` and now, in seconds, in either direction. Default: 60. */
  readonly iatWindowSec?: number;
  /** The current time. Default: `new Date()`. */
  readonly currentDate?: Date;
}

/** A proof that passed every stateless check. Holds no secret: neither the proof nor the token. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key (compare with the token's `cnf.jkt`). */
  readonly jkt: string;
  /** The proof's `jti`. */
  readonly jti: string;
  /** The proof's `iat`, seconds since the epoch. */
  readonly issuedAt: number;
  /** Seconds since the epoch after which `iat` leaves the window: the `jti` must be remembered until then. */
  readonly acceptableUntil: number;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const ASYMMETRIC_KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);

/**
 * Checks a DPoP proof against the request it came with (RFC 9449 §4.3 steps 2–9, 11 and the `ath`
 * part of 12): a compact JWS with `typ` `dpop+jwt`, an allowed asymmetric `alg`, an embedded public
 * `jwk` that verifies the signature, `jti`/`htm`/`htu`/`iat`/`ath` present, `htm` and `htu` matching
 * the request, `iat` within the window and `ath` matching the access token.
 *
 * Stateless: `jti` replay and the token's key binding (`cnf.jkt`) are the caller's to check, with
 * the returned `jti` and `jkt` (see `createDpopVerifier`). Nonces (§8, §9) are not supported.
 *
 * @throws {DpopProofError} with the failed check as `reason`.
 * @throws {TypeError} on invalid options.
 */
export async function verifyDpopProof(proof: string, expected: DpopProofExpectations, options: DpopProofOptions = {}): Promise<VerifiedDpopProof> {
  const algorithms = checkAlgorithms(options.algorithms ?? DEFAULT_DPOP_ALGORITHMS);
  const windowSec = options.iatWindowSec ?? DEFAULT_DPOP_IAT_WINDOW_SEC;
  checkNonNegative({ iatWindowSec: windowSec });

  if (typeof proof !== 'string' || proof.length === 0) throw new DpopProofError('malformed');
  if (proof.length > MAX_DPOP_PROOF_LENGTH) throw new DpopProofError('too_large');
  const parts = proof.split('.');
  if (parts.length !== 3 || !parts.every(isBase64url)) throw new DpopProofError('malformed');
  const header = decodeJsonObject(parts[0]!);
  const claims = decodeJsonObject(parts[1]!);

  // §4.3 steps 4, 5: cheap header checks before any key import or signature work.
  if (typeof header['typ'] !== 'string' || normalizeMediaType(header['typ']) !== DPOP_PROOF_TYPE) throw new DpopProofError('wrong_type');
  const alg = header['alg'];
  if (typeof alg !== 'string' || !algorithms.has(alg)) throw new DpopProofError('alg_not_allowed');
  if (header['crit'] !== undefined) throw new DpopProofError('crit_unsupported');

  // §4.3 steps 6, 7: the signature verifies with the embedded key, which must be public.
  const jwk = publicJwk(header['jwk']);
  const jkt = jwkThumbprint(jwk);
  const key = proofKey(jwk, jkt);
  let valid: boolean;
  try {
    valid = await verifyJwsSignature(alg, key, proof.slice(0, proof.lastIndexOf('.')), parts[2]!);
  } catch (cause) {
    // The embedded key is not one this alg can use: the wrong type, curve or size (RFC 7518 §3).
    if (cause instanceof UnusableKeyError) throw new DpopProofError('invalid_key', { cause });
    throw cause;
  }
  if (!valid) throw new DpopProofError('bad_signature');

  // §4.3 step 3: every required claim, with its type, before comparing any of them.
  const jti = requiredString(claims, 'jti');
  if (jti.length > MAX_DPOP_JTI_LENGTH) throw new DpopProofError('invalid_claim');
  const htm = requiredString(claims, 'htm');
  const htu = requiredString(claims, 'htu');
  const ath = requiredString(claims, 'ath');
  const iat = claims['iat'];
  if (iat === undefined) throw new DpopProofError('missing_claim');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new DpopProofError('invalid_claim');

  // §4.3 step 8.
  if (htm !== expected.method) throw new DpopProofError('htm_mismatch');
  // §4.3 step 9: compared without query and fragment, after syntax- and scheme-based normalisation.
  const normalizedHtu = normalizeHtu(htu);
  if (normalizedHtu === undefined) throw new DpopProofError('invalid_claim');
  if (!expected.urls.some((url) => normalizeHtu(url) === normalizedHtu)) throw new DpopProofError('htu_mismatch');
  // §4.3 step 11: iat within an acceptable window; the jti check is stateful and left to the caller.
  const nowSec = (options.currentDate ?? new Date()).getTime() / 1000;
  if (Math.abs(nowSec - iat) > windowSec) throw new DpopProofError('iat_out_of_window');
  // §4.3 step 12: the proof was made for this access token.
  if (ath !== accessTokenHash(expected.accessToken)) throw new DpopProofError('ath_mismatch');

  return Object.freeze({ jkt, jti, issuedAt: iat, acceptableUntil: iat + windowSec });
}

/** The `ath` value for an access token: base64url(SHA-256(ASCII token)) (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * An http(s) URL without query and fragment, normalised by WHATWG URL parsing (lower-case scheme
 * and host, default port removed, dot segments resolved); undefined when it is not an absolute
 * http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.search = '';
  url.hash = '';
  return url.href;
}

/** @throws {TypeError} when the list is empty or names a symmetric algorithm or `none`. */
export function checkAlgorithms(algorithms: readonly string[]): ReadonlySet<string> {
  const refused = algorithms.filter((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new TypeError(`DPoP algorithms must be a non-empty list of asymmetric JWS algorithms; refused: ${refused.join(', ') || '(empty list)'}`);
  }
  return new Set(algorithms);
}

function decodeJsonObject(part: string): Record<string, unknown> {
  const value = decodeBase64urlJsonObject(part);
  if (value === undefined) throw new DpopProofError('malformed');
  return value;
}

/** RFC 9449 §4.2: `jwk` is the public key; §4.3 step 7: it must not contain a private key. */
function publicJwk(value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DpopProofError('invalid_key');
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw new DpopProofError('private_key');
  if (typeof jwk['kty'] !== 'string' || !ASYMMETRIC_KEY_TYPES.has(jwk['kty'])) throw new DpopProofError('invalid_key');
  // RFC 7517 §4.3: a key whose stated operations leave out verifying may not verify (as jose's import refused it).
  const operations = jwk['key_ops'];
  if (operations !== undefined && !(Array.isArray(operations) && operations.includes('verify'))) throw new DpopProofError('invalid_key');
  return jwk;
}

function requiredString(claims: Record<string, unknown>, name: string): string {
  const value = claims[name];
  if (value === undefined) throw new DpopProofError('missing_claim');
  if (typeof value !== 'string' || value.length === 0) throw new DpopProofError('invalid_claim');
  return value;
}
