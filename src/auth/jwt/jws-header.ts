import { MAX_TOKEN_LENGTH } from '../token-limits.js';
import { decodeBase64urlJsonObject, isBase64url } from '../../lib/base64url-json.js';
import { TokenError } from '../token-error.js';

/** What {@link inspectJwsHeader} accepts. */
export interface JwsHeaderPolicy {
  /** Accepted `alg` values. */
  readonly algorithms: ReadonlySet<string>;
  /** Accepted `typ` values, normalised with {@link normalizeMediaType}. */
  readonly tokenTypes: ReadonlySet<string>;
}


/** A compact JWS whose header passed {@link inspectJwsHeader}; nothing in it is verified yet. */
export interface InspectedJws {
  /** The decoded protected header. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The header segment, base64url. */
  readonly encodedHeader: string;
  /** `header.payload` as it appears in the token: the JWS signing input (RFC 7515 §5.2 step 8). */
  readonly signingInput: string;
  /** The payload segment, base64url. */
  readonly encodedPayload: string;
  /** The signature segment, base64url. */
  readonly encodedSignature: string;
}

/**
 * Cheap structural checks on a compact JWS before any key lookup or signature work: size, three
 * base64url parts, a JSON object header, `alg` on the allow-list (RFC 8725 §3.1), `typ` an access
 * token type (RFC 9068 §4, RFC 8725 §3.11) and no `crit` (RFC 7515 §4.1.11: we understand no
 * extensions). Nothing here is trusted yet; it only refuses early.
 *
 * @throws {TokenError} `too_large`, `malformed`, `alg_not_allowed`, `wrong_type` or `crit_unsupported`.
 */
export function inspectJwsHeader(token: string, policy: JwsHeaderPolicy): InspectedJws {
  if (typeof token !== 'string') throw new TokenError('malformed');
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');

  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed');
  const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
  if (!isBase64url(encodedPayload)) throw new TokenError('malformed');

  const fields = decodeBase64urlJsonObject(encodedHeader);
  if (fields === undefined) throw new TokenError('malformed');

  if (typeof fields['alg'] !== 'string' || !policy.algorithms.has(fields['alg'])) throw new TokenError('alg_not_allowed');
  if (!isBase64url(signature)) throw new TokenError('malformed');
  if (fields['crit'] !== undefined) throw new TokenError('crit_unsupported');
  if (typeof fields['typ'] !== 'string' || !policy.tokenTypes.has(normalizeMediaType(fields['typ']))) {
    throw new TokenError('wrong_type');
  }
  return { header: fields, encodedHeader, signingInput: token.slice(0, encodedHeader.length + 1 + encodedPayload.length), encodedPayload, encodedSignature: signature };
}

/**
 * RFC 7515 §4.1.9: `typ` is a media type compared case-insensitively, and the `application/`
 * prefix may be omitted. Normalises to the lower-case form without the prefix.
 */
export function normalizeMediaType(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
