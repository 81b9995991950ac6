import { TokenError } from './token-error.js';

/**
 * The latest instant a JavaScript `Date` can hold, in seconds since the epoch (ECMA-262
 * §21.4.1.22: ±8.64e15 ms). A NumericDate beyond it cannot be a real token's, and would overflow
 * every date computation made with it.
 */
export const MAX_NUMERIC_DATE_SEC = 8.64e12;

/** What {@link checkTokenTimes} compares a token's times with. */
export interface TokenTimeLimits {
  /** Now, in seconds since the epoch. */
  readonly nowSec: number;
  /** Leeway for clock skew, in seconds. */
  readonly toleranceSec: number;
  /** Maximum age of the token since its `iat`, in seconds; `iat` is then required. Default: none. */
  readonly maxTokenAgeSec?: number | undefined;
}

/**
 * The checks on `iat` and `exp` that jose's `jwtVerify` does not make without `maxTokenAge`
 * (RFC 7519 §4.1.4, §4.1.6), for JWT claims and introspection answers alike:
 *
 * - `iat` (when present, required with `maxTokenAgeSec`) is a finite number, not later than now
 *   plus the tolerance (`issued_in_future`), and with `maxTokenAgeSec` not longer ago than that
 *   plus the tolerance (`too_old`);
 * - `iat`, `nbf` and `exp`, when numbers, are finite and at most {@link MAX_NUMERIC_DATE_SEC}
 *   (`invalid_claim`): `exp: 1e300` is refused rather than remembered for ever.
 *
 * Other type errors of `exp` and `nbf`, and their comparison with now, are the caller's.
 * @throws {TokenError}
 */
export function checkTokenTimes(claims: Readonly<Record<string, unknown>>, limits: TokenTimeLimits): void {
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    const value = claims[name];
    if (typeof value === 'number' && !(Number.isFinite(value) && Math.abs(value) <= MAX_NUMERIC_DATE_SEC)) throw new TokenError('invalid_claim');
  }
  const iat = claims['iat'];
  if (iat === undefined) {
    if (limits.maxTokenAgeSec !== undefined) throw new TokenError('missing_claim');
    return;
  }
  if (typeof iat !== 'number') throw new TokenError('invalid_claim');
  if (iat > limits.nowSec + limits.toleranceSec) throw new TokenError('issued_in_future');
  if (limits.maxTokenAgeSec !== undefined && limits.nowSec - iat - limits.toleranceSec > limits.maxTokenAgeSec) throw new TokenError('too_old');
}
