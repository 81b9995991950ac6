/** Parameters of a Bearer challenge. */
export interface BearerChallengeParams {
  /** Protection space (RFC 6750 §3). */
  realm?: string;
  /** OAuth error code (RFC 6750 §3.1). Omitted when the request simply had no token. */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** Human-readable detail; characters RFC 6750 §3 does not allow are dropped. */
  errorDescription?: string;
  /** Scopes needed (RFC 6750 §3); tokens containing characters outside scope-token are dropped. */
  scope?: string[];
  /** URL of this resource's RFC 9728 metadata (RFC 9728 §5.1). */
  resourceMetadata?: string;
}

/**
 * Formats a `WWW-Authenticate` header value for the Bearer scheme, e.g.
 * `Bearer realm="api", error="invalid_token", error_description="token expired"`.
 * Parameters appear in a fixed order; each value is a quoted-string (RFC 9110 §5.6.4).
 */
export function bearerChallenge(params: BearerChallengeParams): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm=${quoted(params.realm)}`);
  if (params.error !== undefined) parts.push(`error=${quoted(params.error)}`);
  if (params.errorDescription !== undefined) {
    // RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E only.
    parts.push(`error_description=${quoted(params.errorDescription.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, ''))}`);
  }
  if (params.scope !== undefined) {
    // RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited.
    const scopes = params.scope.filter((scope) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope));
    if (scopes.length > 0) parts.push(`scope=${quoted(scopes.join(' '))}`);
  }
  if (params.resourceMetadata !== undefined) parts.push(`resource_metadata=${quoted(params.resourceMetadata)}`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

function quoted(value: string): string {
  // qdtext excludes control characters (no header splitting); quoted-pair escapes '"' and '\'.
  const safe = value.replace(/[^\t\x20-\x7E]/g, '').replace(/["\\]/g, (char) => `\\${char}`);
  return `"${safe}"`;
}
