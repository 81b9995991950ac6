import { DpopRequestError } from '../auth/dpop/dpop-errors.js';
import { InvalidRequestError, TokenError } from '../auth/token-error.js';

import { MAX_TOKEN_LENGTH } from '../auth/token-limits.js';

/** The parts of an incoming HTTP request that can carry an access token. */
export interface BearerRequest {
  /** Node's parsed headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** Node's raw header list, `[name, value, name, value, …]`; used to count repeated headers. */
  rawHeaders: string[];
  /** Parsed query string, when the framework provides one. */
  query?: unknown;
  /** Parsed request body, when the framework provides one. */
  body?: unknown;
  /** HTTP method; needed for DPoP (`htm`, RFC 9449 §4.3). */
  method?: string;
  /** Request-target as received (path and query, e.g. `/graphql?x=1`); needed for DPoP (`htu`). */
  url?: string;
}

/** What the request presented: nothing, a bearer token, or a DPoP-bound token with its proof (RFC 9449 §7.1). */
export type Credentials = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'dpop'; token: string; proof: string };

/** Options for {@link extractCredentials}. */
export interface ExtractCredentialsOptions {
  /** Accept the DPoP scheme. Default: false (Bearer only). */
  dpop?: boolean;
}

// RFC 9110 §11.1 auth-scheme is a token; RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
const SCHEME = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +|$)/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Extracts the access token from the Authorization header (RFC 6750 §2.1), the only method this
 * resource server supports (`bearer_methods_supported: ["header"]`). With `dpop: true` it also
 * accepts `Authorization: DPoP <token>` (RFC 9449 §7.1, same token68 syntax) with exactly one
 * `DPoP` header carrying the proof. A `DPoP` header beside the Bearer scheme, or without an
 * Authorization header, is ignored: a bound token is refused as a bearer token after verification,
 * and an unbound one needs no proof.
 *
 * @throws {InvalidRequestError} two Authorization headers, a malformed header, a scheme other than
 *   Bearer (and DPoP with `dpop: true`), or an `access_token` parameter in the query string or body
 *   (with or without a header).
 * @throws {DpopRequestError} `missing_proof` or `duplicate_proof` for the DPoP scheme.
 * @throws {TokenError} `too_large` when the token is longer than {@link MAX_TOKEN_LENGTH}.
 */
export function extractCredentials(req: BearerRequest, options: ExtractCredentialsOptions = {}): Credentials {
  if (hasParameter(req.query, 'access_token')) throw new InvalidRequestError('token_in_query');
  if (hasParameter(req.body, 'access_token')) throw new InvalidRequestError('token_in_body');

  const header = singleAuthorizationHeader(req);
  if (header === undefined) return { kind: 'none' };

  const scheme = SCHEME.exec(header);
  if (!scheme) throw new InvalidRequestError('malformed_authorization');
  const name = scheme[1]!.toLowerCase();
  const dpop = name === 'dpop' && options.dpop === true;
  if (name !== 'bearer' && !dpop) throw new InvalidRequestError('unsupported_scheme');

  const token = header.slice(scheme[0].length);
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');
  if (!B64TOKEN.test(token)) throw new InvalidRequestError('malformed_authorization');
  if (!dpop) return { kind: 'bearer', token };

  const proof = singleDpopHeader(req);
  if (proof === undefined) throw new DpopRequestError('missing_proof');
  return { kind: 'dpop', token, proof };
}

/** RFC 9449 §4.3 step 1: exactly one DPoP header. */
function singleDpopHeader(req: BearerRequest): string | undefined {
  let count = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'dpop') count += 1;
  }
  const parsed = req.headers['dpop'];
  if (Array.isArray(parsed)) count = Math.max(count, parsed.length);
  // Node joins repeated unknown headers with ", "; a compact JWS never contains a comma.
  else if (typeof parsed === 'string') count = Math.max(count, parsed.includes(',') ? 2 : 1);
  if (count > 1) throw new DpopRequestError('duplicate_proof');
  const value = Array.isArray(parsed) ? parsed[0] : parsed;
  return value === undefined ? undefined : value.replace(/^[ \t]+|[ \t]+$/g, '');
}

function singleAuthorizationHeader(req: BearerRequest): string | undefined {
  // Node keeps only the first of repeated Authorization headers in `headers`; rawHeaders has them all.
  let count = 0;
  let raw: string | undefined;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'authorization') {
      count += 1;
      raw = req.rawHeaders[i + 1];
    }
  }
  const parsed = req.headers['authorization'];
  if (Array.isArray(parsed)) count = Math.max(count, parsed.length);
  if (count > 1) throw new InvalidRequestError('duplicate_credentials');

  const value = typeof parsed === 'string' ? parsed : Array.isArray(parsed) ? parsed[0] : raw;
  // RFC 9110 §5.5: leading and trailing whitespace is not part of a field value.
  return value === undefined ? undefined : value.replace(/^[ \t]+|[ \t]+$/g, '');
}

function hasParameter(container: unknown, name: string): boolean {
  if (container === null || container === undefined) return false;
  if (container instanceof URLSearchParams) return container.has(name);
  if (typeof container === 'object') return Object.hasOwn(container, name);
  return false;
}
