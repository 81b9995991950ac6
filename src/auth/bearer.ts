import { InvalidRequestError, TokenError } from './token-error.js';

/** Longest accepted access token, in characters (8 KiB). Longer ones are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

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
}

/** What the request presented: nothing, or exactly one bearer token. */
export type BearerCredentials = { kind: 'none' } | { kind: 'bearer'; token: string };

// RFC 9110 §11.1 auth-scheme is a token; RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
const SCHEME = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +|$)/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Extracts the bearer token from the Authorization header (RFC 6750 §2.1), the only method this
 * resource server supports (`bearer_methods_supported: ["header"]`).
 *
 * @throws {InvalidRequestError} two Authorization headers, a malformed header, a scheme other than
 *   Bearer, or an `access_token` parameter in the query string or body (with or without a header).
 * @throws {TokenError} `too_large` when the token is longer than {@link MAX_TOKEN_LENGTH}.
 */
export function extractBearer(req: BearerRequest): BearerCredentials {
  if (hasParameter(req.query, 'access_token')) throw new InvalidRequestError('token_in_query');
  if (hasParameter(req.body, 'access_token')) throw new InvalidRequestError('token_in_body');

  const header = singleAuthorizationHeader(req);
  if (header === undefined) return { kind: 'none' };

  const scheme = SCHEME.exec(header);
  if (!scheme) throw new InvalidRequestError('malformed_authorization');
  if (scheme[1]!.toLowerCase() !== 'bearer') throw new InvalidRequestError('unsupported_scheme');

  const token = header.slice(scheme[0].length);
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');
  if (!B64TOKEN.test(token)) throw new InvalidRequestError('malformed_authorization');
  return { kind: 'bearer', token };
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
