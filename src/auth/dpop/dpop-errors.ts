import { AuthUnavailableError, OAuthError, type ReasonOf } from '../oauth-errors.js';

/** Why a DPoP proof was refused (RFC 9449 §4.3; see `ERR_INVALID_DPOP_PROOF` in the catalog). */
export type DpopProofErrorReason = ReasonOf<'ERR_INVALID_DPOP_PROOF'>;

/**
 * The DPoP proof is not acceptable: answer HTTP 401 with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (RFC 9449 §7.1).
 *
 * `message` and `description` never contain the proof, the token or their claims; an underlying
 * jose error, when there is one, is kept as `cause` for logs only.
 */
export class DpopProofError extends OAuthError<'ERR_INVALID_DPOP_PROOF'> {
  static readonly code = 'ERR_INVALID_DPOP_PROOF';
  constructor(reason: DpopProofErrorReason, options?: { cause?: unknown }) {
    super(DpopProofError.code, reason, options);
  }
}

/** Why an otherwise valid access token cannot be used the way it was presented (see `ERR_DPOP_BINDING`). */
export type DpopBindingErrorReason = ReasonOf<'ERR_DPOP_BINDING'>;

/** The token does not fit the presentation scheme: answer HTTP 401 `invalid_token`. */
export class DpopBindingError extends OAuthError<'ERR_DPOP_BINDING'> {
  static readonly code = 'ERR_DPOP_BINDING';
  constructor(reason: DpopBindingErrorReason) {
    super(DpopBindingError.code, reason);
  }
}

/** Why a request using the DPoP scheme is malformed before any proof is looked at (see `ERR_INVALID_DPOP_REQUEST`). */
export type DpopRequestErrorReason = ReasonOf<'ERR_INVALID_DPOP_REQUEST'>;

/** The DPoP request is malformed: answer HTTP 400 `invalid_request`, in the DPoP scheme. */
export class DpopRequestError extends OAuthError<'ERR_INVALID_DPOP_REQUEST'> {
  static readonly code = 'ERR_INVALID_DPOP_REQUEST';
  constructor(reason: DpopRequestErrorReason) {
    super(DpopRequestError.code, reason);
  }
}

/** Why the replay cache cannot record a proof (see `ERR_DPOP_REPLAY_CACHE_UNAVAILABLE`). */
export type DpopReplayCacheUnavailableReason = ReasonOf<'ERR_DPOP_REPLAY_CACHE_UNAVAILABLE'>;

/**
 * The replay cache cannot be consulted (Redis unreachable) or cannot remember one more proof (the
 * in-memory store is full): answer HTTP 503. Failing open would let captured proofs be replayed,
 * so the request is refused without judging the proof. `message` is for operators.
 */
export class DpopReplayCacheUnavailableError extends AuthUnavailableError<'ERR_DPOP_REPLAY_CACHE_UNAVAILABLE'> {
  static readonly code = 'ERR_DPOP_REPLAY_CACHE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown; reason?: DpopReplayCacheUnavailableReason }) {
    super(DpopReplayCacheUnavailableError.code, options?.reason ?? 'unreachable', message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}
