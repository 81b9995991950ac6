import { OAuthError } from './oauth-error.js';

/**
 * Why a presented access token was refused. Stable: logs, metrics and tests branch on these.
 *
 * - `malformed`: not a compact JWS, undecodable header or claims.
 * - `too_large`: longer than the accepted maximum; refused before any parsing.
 * - `expired` / `not_yet_valid`: `exp` / `nbf` outside the clock tolerance.
 * - `issued_in_future`: `iat` later than now plus the clock tolerance.
 * - `too_old`: `iat` longer ago than the configured maximum token age (plus the tolerance).
 * - `bad_signature`: a key was found but the signature does not verify.
 * - `unknown_key`: no (or more than one) key in the issuer's key set matches `kid`/`alg`.
 * - `wrong_issuer` / `wrong_audience`: `iss` / `aud` are not ours.
 * - `alg_not_allowed`: `alg` outside the allow-list (including `none` and every HMAC).
 * - `wrong_type`: the `typ` header is not an access token type (RFC 9068 §4).
 * - `missing_claim` / `invalid_claim`: a required claim is absent / has the wrong JSON type.
 * - `crit_unsupported`: a `crit` header names an extension we do not process (RFC 7515 §4.1.11).
 * - `inactive`: an introspection endpoint says the token is not active (RFC 7662 §2.2).
 */
export type TokenErrorReason =
  | 'malformed'
  | 'too_large'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'too_old'
  | 'bad_signature'
  | 'unknown_key'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'alg_not_allowed'
  | 'wrong_type'
  | 'missing_claim'
  | 'invalid_claim'
  | 'crit_unsupported'
  | 'inactive';

const TOKEN_DESCRIPTIONS: Readonly<Record<TokenErrorReason, string>> = {
  malformed: 'malformed token',
  too_large: 'token too large',
  expired: 'token expired',
  not_yet_valid: 'token not yet valid',
  issued_in_future: 'token issued in the future',
  too_old: 'token too old',
  bad_signature: 'invalid signature',
  unknown_key: 'unknown signing key',
  wrong_issuer: 'wrong issuer',
  wrong_audience: 'wrong audience',
  alg_not_allowed: 'algorithm not allowed',
  wrong_type: 'wrong token type',
  missing_claim: 'missing required claim',
  invalid_claim: 'invalid claim',
  crit_unsupported: 'unsupported critical header',
  inactive: 'token inactive',
};

/**
 * Who a refused token claims to come from and to be for, for the rejection's log line. Taken from
 * the token's *unverified* payload (or the introspection response), so attacker-controlled: log it,
 * never decide on it. Strings only, each at most {@link MAX_CONTEXT_LENGTH} characters.
 */
export interface TokenErrorContext {
  /** `iss`. */
  readonly issuer?: string | undefined;
  /** `client_id` (or `azp`/`cid`). */
  readonly clientId?: string | undefined;
  /** `sub`. */
  readonly subject?: string | undefined;
}

/** Longest context value kept on a {@link TokenError}, in characters; longer ones are cut. */
export const MAX_CONTEXT_LENGTH = 256;

/**
 * The presented token is not acceptable: answer HTTP 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
 *
 * `message` and `description` never contain the token or its claims; the underlying jose error,
 * when there is one, is kept as `cause` for logs only. `issuer`, `clientId` and `subject` are
 * unverified and for logs only (see {@link TokenErrorContext}).
 */
export class TokenError extends OAuthError<TokenErrorReason> {
  static readonly code = 'ERR_INVALID_TOKEN';
  readonly code = TokenError.code;
  /** Unverified `iss` of the refused token, when known. */
  readonly issuer: string | undefined;
  /** Unverified client id of the refused token, when known. */
  readonly clientId: string | undefined;
  /** Unverified `sub` of the refused token, when known. */
  readonly subject: string | undefined;

  constructor(reason: TokenErrorReason, options?: { cause?: unknown } & TokenErrorContext) {
    super('invalid_token', reason, TOKEN_DESCRIPTIONS[reason], options);
    this.name = 'TokenError';
    this.issuer = contextValue(options?.issuer);
    this.clientId = contextValue(options?.clientId);
    this.subject = contextValue(options?.subject);
  }

  /** The fields of one structured rejection log line: reason and whatever is known of who sent it. */
  logFields(): { reason: TokenErrorReason; issuer?: string; clientId?: string; subject?: string } {
    return {
      reason: this.reason,
      ...(this.issuer !== undefined ? { issuer: this.issuer } : {}),
      ...(this.clientId !== undefined ? { clientId: this.clientId } : {}),
      ...(this.subject !== undefined ? { subject: this.subject } : {}),
    };
  }
}

/**
 * `error` with `context` filled in where it knows nothing yet (same reason and cause); other
 * errors are returned unchanged.
 */
export function withTokenContext<E>(error: E, context: TokenErrorContext): E | TokenError {
  if (!(error instanceof TokenError)) return error;
  const merged = {
    issuer: error.issuer ?? context.issuer,
    clientId: error.clientId ?? context.clientId,
    subject: error.subject ?? context.subject,
  };
  if (merged.issuer === error.issuer && merged.clientId === error.clientId && merged.subject === error.subject) return error;
  return new TokenError(error.reason, { cause: error.cause, ...merged });
}

function contextValue(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return value.length > MAX_CONTEXT_LENGTH ? value.slice(0, MAX_CONTEXT_LENGTH) : value;
}

/**
 * Why a request's credentials were refused before looking at the token itself.
 *
 * - `duplicate_credentials`: more than one Authorization header.
 * - `malformed_authorization`: the Authorization header does not match `Bearer <b64token>`.
 * - `unsupported_scheme`: an authentication scheme other than Bearer.
 * - `token_in_query` / `token_in_body`: an `access_token` parameter; only the header method is supported.
 */
export type InvalidRequestReason =
  | 'duplicate_credentials'
  | 'malformed_authorization'
  | 'unsupported_scheme'
  | 'token_in_query'
  | 'token_in_body';

const REQUEST_DESCRIPTIONS: Readonly<Record<InvalidRequestReason, string>> = {
  duplicate_credentials: 'more than one Authorization header',
  malformed_authorization: 'malformed Authorization header',
  unsupported_scheme: 'only the Bearer authentication scheme is supported',
  token_in_query: 'access tokens are accepted in the Authorization header only',
  token_in_body: 'access tokens are accepted in the Authorization header only',
};

/**
 * The request carries credentials in a way we do not accept: answer HTTP 400 with
 * `WWW-Authenticate: Bearer error="invalid_request"` (RFC 6750 §3.1).
 */
export class InvalidRequestError extends OAuthError<InvalidRequestReason> {
  static readonly code = 'ERR_INVALID_REQUEST';
  readonly code = InvalidRequestError.code;

  constructor(reason: InvalidRequestReason) {
    super('invalid_request', reason, REQUEST_DESCRIPTIONS[reason]);
    this.name = 'InvalidRequestError';
  }
}

/**
 * Why tokens cannot be verified at all right now.
 *
 * - `discovery_failed`: the issuer's metadata could not be obtained or did not validate.
 * - `jwks_unavailable`: the issuer's key set could not be fetched and no keys are cached.
 * - `introspection_unavailable`: the introspection endpoint did not answer usefully.
 */
export type AuthServiceUnavailableReason = 'discovery_failed' | 'jwks_unavailable' | 'introspection_unavailable';

/**
 * The authorization server cannot be reached and nothing usable is cached: answer HTTP 503.
 * The token may well be valid, so this is not an `invalid_token`.
 *
 * `message` is for operators (it may name the issuer's URLs, never a token); clients should get a
 * generic text.
 */
export class AuthServiceUnavailableError extends Error {
  static readonly code = 'ERR_AUTH_SERVICE_UNAVAILABLE';
  readonly code = AuthServiceUnavailableError.code;
  /** HTTP status to answer with. */
  readonly status = 503;
  readonly reason: AuthServiceUnavailableReason;

  constructor(reason: AuthServiceUnavailableReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthServiceUnavailableError';
    this.reason = reason;
  }
}
