import { AuthUnavailableError, OAuthError, type ReasonOf } from './oauth-errors.js';

/** Why a presented access token was refused (see `ERR_INVALID_TOKEN` in the catalog). */
export type TokenErrorReason = ReasonOf<'ERR_INVALID_TOKEN'>;

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
export class TokenError extends OAuthError<'ERR_INVALID_TOKEN'> {
  static readonly code = 'ERR_INVALID_TOKEN';
  /** Unverified `iss` of the refused token, when known. */
  readonly issuer: string | undefined;
  /** Unverified client id of the refused token, when known. */
  readonly clientId: string | undefined;
  /** Unverified `sub` of the refused token, when known. */
  readonly subject: string | undefined;
  constructor(reason: TokenErrorReason, options?: { cause?: unknown } & TokenErrorContext) {
    super(TokenError.code, reason, options);
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

/** Why a request's credentials were refused before looking at the token (see `ERR_INVALID_REQUEST`). */
export type InvalidRequestReason = ReasonOf<'ERR_INVALID_REQUEST'>;

/**
 * The request carries credentials in a way we do not accept: answer HTTP 400 with
 * `WWW-Authenticate: Bearer error="invalid_request"` (RFC 6750 §3.1).
 */
export class InvalidRequestError extends OAuthError<'ERR_INVALID_REQUEST'> {
  static readonly code = 'ERR_INVALID_REQUEST';
  constructor(reason: InvalidRequestReason) {
    super(InvalidRequestError.code, reason);
  }
}

/** Why tokens cannot be verified at all right now (see `ERR_AUTH_SERVICE_UNAVAILABLE`). */
export type AuthServiceUnavailableReason = ReasonOf<'ERR_AUTH_SERVICE_UNAVAILABLE'>;

/**
 * The authorization server cannot be reached and nothing usable is cached: answer HTTP 503.
 * The token may well be valid, so this is not an `invalid_token`.
 *
 * `message` is for operators (it may name the issuer's URLs, never a token); clients get a generic text.
 */
export class AuthServiceUnavailableError extends AuthUnavailableError<'ERR_AUTH_SERVICE_UNAVAILABLE'> {
  static readonly code = 'ERR_AUTH_SERVICE_UNAVAILABLE';
  constructor(reason: AuthServiceUnavailableReason, message: string, options?: { cause?: unknown }) {
    super(AuthServiceUnavailableError.code, reason, message, options);
  }
}
