import { suspendStackTraces } from '../errors.js';

/** The OAuth error codes a resource server answers with (RFC 6750 §3.1, RFC 9449 §7.1). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof';

const STATUS: Readonly<Record<OAuthErrorCode, 400 | 401>> = { invalid_request: 400, invalid_token: 401, invalid_dpop_proof: 401 };

/**
 * A refusal of the request's credentials, answered with a `WWW-Authenticate` challenge carrying
 * `oauthError`. `reason` is a stable internal code (logs, metrics, tests); `description` a short,
 * client-safe `error_description`. Neither ever contains a token or a proof; an underlying error
 * is kept as `cause`, for logs only.
 */
export abstract class OAuthError<R extends string> extends Error {
  /** Stable error code of the class, e.g. `ERR_INVALID_TOKEN`. */
  abstract readonly code: string;
  /** OAuth error code for the `WWW-Authenticate` challenge. */
  readonly oauthError: OAuthErrorCode;
  /** HTTP status to answer with. */
  readonly status: 400 | 401;
  readonly reason: R;
  /** Client-safe `error_description`. */
  readonly description: string;

  protected constructor(oauthError: OAuthErrorCode, reason: R, description: string, options?: { cause?: unknown }) {
    // An expected refusal, not a fault: no stack frames (the log line carries reason and cause).
    const restore = suspendStackTraces();
    try {
      super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    } finally {
      restore();
    }
    this.oauthError = oauthError;
    this.status = STATUS[oauthError];
    this.reason = reason;
    this.description = description;
  }
}
