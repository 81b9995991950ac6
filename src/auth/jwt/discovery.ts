import type { AuthErrorCode, ReasonOf } from '../oauth-errors.js';

/** Authorization server metadata (RFC 8414 §2) as far as a resource server uses it. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly introspection_endpoint?: string;
  readonly introspection_endpoint_auth_methods_supported?: readonly string[];
  readonly scopes_supported?: readonly string[];
  /** Every other member, unvalidated. */
  readonly [member: string]: unknown;
}

/** Options for {@link discoverIssuer}. */
export interface DiscoveryOptions {
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Timeout for each metadata request, in milliseconds. Default: 5000. */
  timeoutMs?: number;
}

/** Why metadata could not be obtained (see `ERR_DISCOVERY_FAILED` in the catalog). */
export type DiscoveryErrorReason = ReasonOf<'ERR_DISCOVERY_FAILED'>;

/** Metadata discovery failed. `message` names the URLs tried (configuration, not secrets). */
export class DiscoveryError extends Error {
  static readonly code = 'ERR_DISCOVERY_FAILED' satisfies AuthErrorCode;
  readonly code = DiscoveryError.code;
  readonly reason: DiscoveryErrorReason;

  constructor(reason: DiscoveryErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
    this.reason = reason;
  }
}

/** Default timeout for each metadata request, in milliseconds. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5000;

/**
 * The well-known metadata URLs for an issuer, in the order they are tried: RFC 8414 §3.1 (the
 * well-known segment goes between the host and the issuer's path), then OpenID Connect Discovery
 * 1.0 §4 (appended to the issuer).
 */
export function metadataUrls(issuer: string): [string, string] {
  const url = new URL(issuer);
  // RFC 8414 §3.1: "any terminating '/' MUST be removed before inserting".
  const path = url.pathname.replace(/\/$/, '');
  const rfc8414 = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  const oidc = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return [rfc8414, oidc];
}

/**
 * Fetches and validates an issuer's metadata: RFC 8414 first, OpenID Connect discovery when that
 * fails for any reason. The returned `issuer` is exactly the configured one.
 *
 * @param issuer The configured issuer identifier (an http(s) URL without query or fragment).
 * @throws {DiscoveryError} when neither URL yields valid metadata for this issuer.
 * @throws {TypeError} when `issuer` is not an http(s) URL (programmer or configuration error).
 */
export async function discoverIssuer(issuer: string, options: DiscoveryOptions = {}): Promise<AuthorizationServerMetadata> {
  assertIssuer(issuer);
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;

  const failures: DiscoveryError[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      return validateMetadata(await fetchJson(fetchImpl, url, timeoutMs), issuer, url);
    } catch (error) {
      failures.push(error instanceof DiscoveryError ? error : new DiscoveryError('unreachable', `${url}: ${networkFailure(error, timeoutMs)}`, { cause: error }));
    }
  }
  // Report the most specific failure: a document that exists but is wrong beats a 404.
  const rank: Record<DiscoveryErrorReason, number> = { issuer_mismatch: 3, invalid_metadata: 2, http_error: 1, unreachable: 0 };
  const worst = failures.reduce((a, b) => (rank[b.reason] > rank[a.reason] ? b : a));
  throw new DiscoveryError(worst.reason, `metadata discovery for ${issuer} failed: ${failures.map((f) => f.message).join('; ')}`, {
    cause: failures,
  });
}

async function fetchJson(fetchImpl: typeof fetch, url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetchImpl(url, {
    headers: { accept: 'application/json' },
    // Metadata must come from the issuer's own well-known URL, not from wherever it redirects.
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new DiscoveryError('http_error', `${url}: HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch (cause) {
    throw new DiscoveryError('invalid_metadata', `${url}: response is not JSON`, { cause });
  }
}

function validateMetadata(document: unknown, issuer: string, url: string): AuthorizationServerMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new DiscoveryError('invalid_metadata', `${url}: not a JSON object`);
  }
  const metadata = document as Record<string, unknown>;
  // RFC 8414 §3.3: the issuer value returned MUST be identical to the issuer identifier used.
  if (metadata['issuer'] !== issuer) throw new DiscoveryError('issuer_mismatch', `${url}: issuer does not match ${issuer}`);
  if (!isHttpUrl(metadata['jwks_uri'])) throw new DiscoveryError('invalid_metadata', `${url}: jwks_uri missing or not an http(s) URL`);
  if (metadata['introspection_endpoint'] !== undefined && !isHttpUrl(metadata['introspection_endpoint'])) {
    throw new DiscoveryError('invalid_metadata', `${url}: introspection_endpoint is not an http(s) URL`);
  }
  return Object.freeze({ ...metadata }) as AuthorizationServerMetadata;
}

function networkFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `request failed (${code})` : 'request failed';
}

function assertIssuer(issuer: string): void {
  // RFC 8414 §2: a URL using the "https" scheme with no query or fragment components (http allowed for local use).
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError('issuer must be an absolute URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new TypeError('issuer must be an http(s) URL without query or fragment');
  }
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
