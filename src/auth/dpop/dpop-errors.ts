import { OAuthError } from '../oauth-error.js';

/**
 * Why a DPoP proof was refused (RFC 9449 §4.3). Stable: logs, metrics and tests branch on these.
 *
 * - `malformed`: not a compact JWS, or an undecodable header or claims set.
 * - `too_large`: longer than the accepted maximum; refused before any parsing.
 * - `wrong_type`: the `typ` header is not `dpop+jwt`.
 * - `alg_not_allowed`: `alg` outside the allow-list (including `none` and every HMAC).
 * - `crit_unsupported`: a `crit` header names an extension we do not process (RFC 7515 §4.1.11).
 * - `invalid_key`: the `jwk` header is missing, not an asymmetric public key, or unusable with `alg`.
 * - `private_key`: the `jwk` header contains private key members.
 * - `bad_signature`: the signature does not verify with the embedded key.
 * - `missing_claim` / `invalid_claim`: `jti`, `htm`, `htu`, `iat` or `ath` absent / of the wrong type.
 * - `htm_mismatch` / `htu_mismatch`: the proof was made for another method / URL.
 * - `iat_out_of_window`: `iat` too far in the past or the future.
 * - `ath_mismatch`: the proof was made for another access token.
 * - `key_mismatch`: the access token is bound (`cnf.jkt`) to another key.
 * - `replayed`: the proof's `jti` was already used with this key.
 */
export type DpopProofErrorReason =
  | 'malformed'
  | 'too_large'
  | 'wrong_type'
  | 'alg_not_allowed'
  | 'crit_unsupported'
  | 'invalid_key'
  | 'private_key'
  | 'bad_signature'
  | 'missing_claim'
  | 'invalid_claim'
  | 'htm_mismatch'
  | 'htu_mismatch'
  | 'iat_out_of_window'
  | 'ath_mismatch'
  | 'key_mismatch'
  | 'replayed';

const PROOF_DESCRIPTIONS: Readonly<Record<DpopProofErrorReason, string>> = {
  malformed: 'malformed DPoP proof',
  too_large: 'DPoP proof too large',
  wrong_type: 'wrong DPoP proof type',
  alg_not_allowed: 'DPoP proof algorithm not allowed',
  crit_unsupported: 'unsupported critical header in DPoP proof',
  invalid_key: 'invalid DPoP proof key',
  private_key: 'DPoP proof key must be a public key',
  bad_signature: 'invalid DPoP proof signature',
  missing_claim: 'DPoP proof lacks a required claim',
  invalid_claim: 'invalid DPoP proof claim',
  htm_mismatch: 'DPoP proof htm mismatch',
  htu_mismatch: 'DPoP proof htu mismatch',
  iat_out_of_window: 'DPoP proof iat outside the acceptable window',
  ath_mismatch: 'DPoP proof ath mismatch',
  key_mismatch: 'DPoP proof key does not match the access token binding',
  replayed: 'DPoP proof replayed',
};

/**
 * The DPoP proof is not acceptable: answer HTTP 401 with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (RFC 9449 §7.1).
 *
 * `message` and `description` never contain the proof, the token or their claims; an underlying
 * jose error, when there is one, is kept as `cause` for logs only.
 */
export class DpopProofError extends OAuthError<DpopProofErrorReason> {
  static readonly code = 'ERR_INVALID_DPOP_PROOF';
  readonly code = DpopProofError.code;

  constructor(reason: DpopProofErrorReason, options?: { cause?: unknown }) {
    super('invalid_dpop_proof', reason, PROOF_DESCRIPTIONS[reason], options);
    this.name = 'DpopProofError';
  }
}

/**
 * Why an otherwise valid access token cannot be used the way it was presented.
 *
 * - `bound_token_as_bearer`: the token is DPoP-bound (`cnf.jkt`) but came with the Bearer scheme
 *   (RFC 9449 §7.2: a bearer presentation would defeat the binding).
 * - `not_bound`: the DPoP scheme was used with a token that carries no `cnf.jkt`, so the proof
 *   key cannot be tied to it (RFC 9449 §4.3 step 12).
 */
export type DpopBindingErrorReason = 'bound_token_as_bearer' | 'not_bound';

const BINDING_DESCRIPTIONS: Readonly<Record<DpopBindingErrorReason, string>> = {
  bound_token_as_bearer: 'DPoP-bound access token presented as a bearer token',
  not_bound: 'access token is not DPoP-bound',
};

/** The token does not fit the presentation scheme: answer HTTP 401 `invalid_token`. */
export class DpopBindingError extends OAuthError<DpopBindingErrorReason> {
  static readonly code = 'ERR_DPOP_BINDING';
  readonly code = DpopBindingError.code;

  constructor(reason: DpopBindingErrorReason) {
    super('invalid_token', reason, BINDING_DESCRIPTIONS[reason]);
    this.name = 'DpopBindingError';
  }
}

/**
 * Why a request using the DPoP scheme is malformed before any proof is looked at.
 *
 * - `missing_proof`: `Authorization: DPoP` without a `DPoP` header.
 * - `duplicate_proof`: more than one `DPoP` header (RFC 9449 §4.3 step 1).
 */
export type DpopRequestErrorReason = 'missing_proof' | 'duplicate_proof';

const REQUEST_DESCRIPTIONS: Readonly<Record<DpopRequestErrorReason, string>> = {
  missing_proof: 'the DPoP scheme requires a DPoP header',
  duplicate_proof: 'more than one DPoP header',
};

/** The DPoP request is malformed: answer HTTP 400 `invalid_request`. */
export class DpopRequestError extends OAuthError<DpopRequestErrorReason> {
  static readonly code = 'ERR_INVALID_DPOP_REQUEST';
  readonly code = DpopRequestError.code;

  constructor(reason: DpopRequestErrorReason) {
    super('invalid_request', reason, REQUEST_DESCRIPTIONS[reason]);
    this.name = 'DpopRequestError';
  }
}

/**
 * Why the replay cache cannot record a proof.
 *
 * - `unreachable`: the store (Redis) did not answer.
 * - `full`: the in-memory store holds as many unexpired proof ids as it may (in total, or for the
 *   proof's key); it never forgets one early, so it refuses new ones until some expire.
 */
export type DpopReplayCacheUnavailableReason = 'unreachable' | 'full';

/**
 * The replay cache cannot be consulted (Redis unreachable) or cannot remember one more proof (the
 * in-memory store is full): answer HTTP 503. Failing open would let captured proofs be replayed,
 * so the request is refused without judging the proof. `message` is for operators.
 */
export class DpopReplayCacheUnavailableError extends Error {
  static readonly code = 'ERR_DPOP_REPLAY_CACHE_UNAVAILABLE';
  readonly code = DpopReplayCacheUnavailableError.code;
  /** HTTP status to answer with. */
  readonly status = 503;
  readonly reason: DpopReplayCacheUnavailableReason;

  constructor(message: string, options?: { cause?: unknown; reason?: DpopReplayCacheUnavailableReason }) {
    super(message, options);
    this.name = 'DpopReplayCacheUnavailableError';
    this.reason = options?.reason ?? 'unreachable';
  }
}
