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

/** Parameters of a DPoP challenge (RFC 9449 §7.1). */
export interface DpopChallengeParams extends Omit<BearerChallengeParams, 'error'> {
  /** OAuth error code: RFC 6750 §3.1's, or `invalid_dpop_proof` (RFC 9449 §7.1). Omitted when the request had no credentials. */
  error?: BearerChallengeParams['error'] | 'invalid_dpop_proof';
  /** JWS algorithms accepted for DPoP proofs (RFC 9449 §7.1 `algs`), space-delimited. */
  algs: readonly string[];
}

/**
 * Formats a `WWW-Authenticate` header value for the Bearer scheme, e.g.
 * `Bearer realm="api", error="invalid_token", error_description="token expired"`.
 * Parameters appear in a fixed order; each value is a quoted-string (RFC 9110 §5.6.4).
 */
export function bearerChallenge(params: BearerChallengeParams): string {
  const parts = authParams(params);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

/**
 * Formats a `WWW-Authenticate` header value for the DPoP scheme (RFC 9449 §7.1), e.g.
 * `DPoP error="invalid_dpop_proof", error_description="…", algs="ES256 PS256"`: the Bearer
 * parameters in the same order, then `algs`.
 */
export function dpopChallenge(params: DpopChallengeParams): string {
  const parts = authParams(params);
  // RFC 9449 §7.1: algs is a space-delimited list of JWS alg values (tokens; anything else is dropped).
  const algs = params.algs.filter((alg) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(alg));
  if (algs.length > 0) parts.push(`algs=${quoted(algs.join(' '))}`);
  return parts.length === 0 ? 'DPoP' : `DPoP ${parts.join(', ')}`;
}

/**
 * Joins challenges into one `WWW-Authenticate` value (RFC 9110 §11.6.1: a comma-separated list of
 * challenges), e.g. Bearer and DPoP offered together (RFC 9449 §7.2).
 */
export function joinChallenges(...challenges: ReadonlyArray<string | undefined>): string {
  return challenges.filter((challenge): challenge is string => challenge !== undefined && challenge !== '').join(', ');
}

function authParams(params: Omit<BearerChallengeParams, 'error'> & { error?: string }): string[] {
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
  return parts;
}

function quoted(value: string): string {
  // qdtext excludes control characters (no header splitting); quoted-pair escapes '"' and '\'.
  const safe = value.replace(/[^\t\x20-\x7E]/g, '').replace(/["\\]/g, (char) => `\\${char}`);
  return `"${safe}"`;
}
