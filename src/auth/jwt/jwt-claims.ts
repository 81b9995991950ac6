import { decodeBase64urlJsonObject } from '../../lib/base64url-json.js';
import { TokenError } from '../token-error.js';
import { checkTokenTimes } from '../token-times.js';

/** What {@link checkJwtClaims} requires of a verified JWT's claims set. */
export interface JwtClaimsPolicy {
  /** Expected `iss`, compared exactly. */
  readonly issuer: string;
  /** Accepted audiences: `aud` (a string or an array of strings) must contain one of them. */
  readonly audiences: readonly string[];
  /** Claims that must be present (`iss` and `aud` always are; `iat` too with `maxTokenAgeSec`). */
  readonly requiredClaims: readonly string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. */
  readonly toleranceSec: number;
  /** Maximum age since `iat`, in seconds. Default: none. */
  readonly maxTokenAgeSec?: number | undefined;
}

/**
 * Decodes the claims set of a JWT whose signature has been verified and checks it (RFC 7519 §7.2
 * step 10, §4.1; RFC 9068 §4), with the rules and in the order of jose's `jwtVerify`, which this
 * replaced when the signature moved to node:crypto (see `verifyJwsSignature`):
 *
 * 1. the payload is strict UTF-8 JSON and an object (`malformed`);
 * 2. every required claim is present (`missing_claim`);
 * 3. `iss` is the issuer (`wrong_issuer`) and `aud` contains an accepted audience (`wrong_audience`);
 * 4. `iat`, `nbf`, `exp` are numbers when present (`invalid_claim`); `nbf` is not later than now plus
 *    the leeway (`not_yet_valid`); `exp` is later than now minus the leeway (`expired`);
 * 5. with `maxTokenAgeSec`, `iat` is not longer ago than that plus the leeway (`too_old`) nor
 *    later than now plus the leeway (`issued_in_future`);
 * 6. {@link checkTokenTimes}: finite, representable times and no `iat` in the future.
 *
 * @param encodedPayload The JWS payload segment, already known to be base64url.
 * @throws {TokenError}
 */
export function checkJwtClaims(encodedPayload: string, policy: JwtClaimsPolicy, nowSec: number): Record<string, unknown> {
  const set = decodeBase64urlJsonObject(encodedPayload, { strictUtf8: true });
  if (set === undefined) throw new TokenError('malformed');

  for (const name of policy.requiredClaims) if (!Object.hasOwn(set, name)) throw new TokenError('missing_claim');
  if (!Object.hasOwn(set, 'iss') || !Object.hasOwn(set, 'aud')) throw new TokenError('missing_claim');
  if (policy.maxTokenAgeSec !== undefined && !Object.hasOwn(set, 'iat')) throw new TokenError('missing_claim');

  if (set['iss'] !== policy.issuer) throw new TokenError('wrong_issuer');
  if (!containsAudience(set['aud'], policy.audiences)) throw new TokenError('wrong_audience');

  const tolerance = policy.toleranceSec;
  const iat = numericDate(set, 'iat');
  const nbf = numericDate(set, 'nbf');
  if (nbf !== undefined && nbf > nowSec + tolerance) throw new TokenError('not_yet_valid');
  const exp = numericDate(set, 'exp');
  if (exp !== undefined && exp <= nowSec - tolerance) throw new TokenError('expired');
  if (policy.maxTokenAgeSec !== undefined && iat !== undefined) {
    if (nowSec - iat - tolerance > policy.maxTokenAgeSec) throw new TokenError('too_old');
    if (nowSec - iat < -tolerance) throw new TokenError('issued_in_future');
  }

  checkTokenTimes(set, { nowSec, toleranceSec: tolerance });
  return set;
}

function containsAudience(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  if (Array.isArray(aud)) return accepted.some((audience) => aud.includes(audience));
  return false;
}

function numericDate(claims: Readonly<Record<string, unknown>>, name: 'iat' | 'nbf' | 'exp'): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TokenError('invalid_claim');
  return value;
}
