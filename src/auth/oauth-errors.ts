import { ErrorCode, suspendStackTraces } from '../errors.js';

/** The OAuth error codes a resource server refuses credentials with (RFC 6750 §3.1, RFC 9449 §7.1). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof';

/**
 * Every failure of the authentication layer, defined once: each family has a stable `code` (the
 * error class's, as jose's `ERR_JWT_EXPIRED`), each failure a stable `reason` within it (logs,
 * metrics and tests branch on the pair).
 *
 * - `refusal`: the request's credentials are refused with `oauthError`; each reason's text is the
 *   client-safe `error_description`. `scheme: 'dpop'`: raised only for the DPoP scheme, and so
 *   always answered in it (RFC 9449 §7.1).
 * - `unavailable`: tokens cannot be judged right now (answered 503, fail closed); each reason's
 *   text is the `reason` of the operator's log line. Messages are the throw site's, for operators.
 * - `internal`: never answered as such; wrapped by the verifier that meets it.
 *
 * No text here, nor any message built at a throw site, contains a token or a proof.
 */
export const AUTH_ERROR_CATALOG = {
  /**
   * The presented access token is not acceptable (RFC 6750 §3.1).
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
  ERR_INVALID_TOKEN: {
    kind: 'refusal',
    oauthError: 'invalid_token',
    reasons: {
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
    },
  },
  /**
   * The request carries credentials in a way we do not accept (RFC 6750 §3.1).
   *
   * - `duplicate_credentials`: more than one Authorization header.
   * - `malformed_authorization`: the Authorization header does not match `Bearer <b64token>`.
   * - `unsupported_scheme`: an authentication scheme other than Bearer (and DPoP, when accepted).
   * - `token_in_query` / `token_in_body`: an `access_token` parameter; only the header method is supported.
   */
  ERR_INVALID_REQUEST: {
    kind: 'refusal',
    oauthError: 'invalid_request',
    reasons: {
      duplicate_credentials: 'more than one Authorization header',
      malformed_authorization: 'malformed Authorization header',
      unsupported_scheme: 'only the Bearer authentication scheme is supported',
      token_in_query: 'access tokens are accepted in the Authorization header only',
      token_in_body: 'access tokens are accepted in the Authorization header only',
    },
  },
  /**
   * The DPoP proof is not acceptable (RFC 9449 §4.3, §7.1).
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
  ERR_INVALID_DPOP_PROOF: {
    kind: 'refusal',
    oauthError: 'invalid_dpop_proof',
    scheme: 'dpop',
    reasons: {
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
    },
  },
  /**
   * An otherwise valid access token cannot be used the way it was presented.
   *
   * - `bound_token_as_bearer`: the token is DPoP-bound (`cnf.jkt`) but came with the Bearer scheme
   *   (RFC 9449 §7.2: a bearer presentation would defeat the binding).
   * - `not_bound`: the DPoP scheme was used with a token that carries no `cnf.jkt`, so the proof
   *   key cannot be tied to it (RFC 9449 §4.3 step 12).
   */
  ERR_DPOP_BINDING: {
    kind: 'refusal',
    oauthError: 'invalid_token',
    reasons: {
      bound_token_as_bearer: 'DPoP-bound access token presented as a bearer token',
      not_bound: 'access token is not DPoP-bound',
    },
  },
  /**
   * A request using the DPoP scheme is malformed before any proof is looked at.
   *
   * - `missing_proof`: `Authorization: DPoP` without a `DPoP` header.
   * - `duplicate_proof`: more than one `DPoP` header (RFC 9449 §4.3 step 1).
   */
  ERR_INVALID_DPOP_REQUEST: {
    kind: 'refusal',
    oauthError: 'invalid_request',
    scheme: 'dpop',
    reasons: {
      missing_proof: 'the DPoP scheme requires a DPoP header',
      duplicate_proof: 'more than one DPoP header',
    },
  },
  /**
   * The authorization server cannot be reached and nothing usable is cached. The token may well be
   * valid, so this is not an `invalid_token`.
   *
   * - `discovery_failed`: the issuer's metadata could not be obtained or did not validate.
   * - `jwks_unavailable`: the issuer's key set could not be fetched and no keys are cached.
   * - `introspection_unavailable`: the introspection endpoint did not answer usefully.
   */
  ERR_AUTH_SERVICE_UNAVAILABLE: {
    kind: 'unavailable',
    reasons: {
      discovery_failed: 'discovery_failed',
      jwks_unavailable: 'jwks_unavailable',
      introspection_unavailable: 'introspection_unavailable',
    },
  },
  /**
   * The DPoP replay cache cannot record a proof. Failing open would let captured proofs be
   * replayed, so the request is refused without judging the proof.
   *
   * - `unreachable`: the store (Redis) did not answer.
   * - `full`: the in-memory store holds as many unexpired proof ids as it may (in total, or for the
   *   proof's key); it never forgets one early, so it refuses new ones until some expire.
   */
  ERR_DPOP_REPLAY_CACHE_UNAVAILABLE: {
    kind: 'unavailable',
    reasons: {
      unreachable: 'dpop_replay_cache_unavailable',
      full: 'dpop_replay_cache_full',
    },
  },
  /**
   * Authorization server metadata could not be obtained (RFC 8414); the verifiers report it as
   * `ERR_AUTH_SERVICE_UNAVAILABLE` `discovery_failed`.
   *
   * - `unreachable`: network error or timeout on every well-known URL.
   * - `http_error`: every well-known URL answered with a status other than 200.
   * - `invalid_metadata`: not a JSON object, or `jwks_uri` missing or not an http(s) URL.
   * - `issuer_mismatch`: the document's `issuer` differs from the configured one (RFC 8414 §3.3).
   */
  ERR_DISCOVERY_FAILED: {
    kind: 'internal',
    reasons: {
      unreachable: 'unreachable',
      http_error: 'http_error',
      invalid_metadata: 'invalid_metadata',
      issuer_mismatch: 'issuer_mismatch',
    },
  },
} as const satisfies Readonly<Record<string, CatalogFamily>>;

/** One family of the {@link AUTH_ERROR_CATALOG}. */
export type CatalogFamily =
  | { readonly kind: 'refusal'; readonly oauthError: OAuthErrorCode; readonly scheme?: 'dpop'; readonly reasons: Readonly<Record<string, string>> }
  | { readonly kind: 'unavailable' | 'internal'; readonly reasons: Readonly<Record<string, string>> };

type Catalog = typeof AUTH_ERROR_CATALOG;
/** Every stable error code of the catalog. */
export type AuthErrorCode = keyof Catalog;
/** The codes of refusals (answered with an OAuth error and a challenge). */
export type RefusalCode = { [C in AuthErrorCode]: Catalog[C]['kind'] extends 'refusal' ? C : never }[AuthErrorCode];
/** The codes of failures answered with 503. */
export type UnavailableCode = { [C in AuthErrorCode]: Catalog[C]['kind'] extends 'unavailable' ? C : never }[AuthErrorCode];
/** The reasons of one family, e.g. `ReasonOf<'ERR_INVALID_TOKEN'>` is `'malformed' | 'too_large' | …`. */
export type ReasonOf<C extends AuthErrorCode> = C extends AuthErrorCode ? keyof Catalog[C]['reasons'] & string : never;

/** Every way the authentication edge and the authorization plugin answer a request they refuse. */
export type AnswerKind = OAuthErrorCode | 'insufficient_scope' | 'authentication_required' | 'unavailable';

/** How one {@link AnswerKind} is answered over HTTP. */
export interface AnswerRule {
  readonly status: 400 | 401 | 403 | 503;
  /** `extensions.code` of the GraphQL error the edge answers with. */
  readonly clientCode: ErrorCode;
  /**
   * The `WWW-Authenticate` challenge, or false for none. `error`: the OAuth error code is a
   * parameter; `resourceMetadata`: RFC 9728 §5.1 `resource_metadata` is; `offerDpop`: a bare DPoP
   * challenge is offered beside a Bearer one when DPoP is accepted (RFC 9449 §7.2).
   */
  readonly challenge: false | { readonly error: boolean; readonly resourceMetadata: boolean; readonly offerDpop: boolean };
  /**
   * The edge's client message: this prefix, then the refusal's description (alone for
   * `unavailable`). Absent for the plugin's answers: its errors are the fields' denials.
   */
  readonly message?: string;
}

/**
 * The one table from an answer to its HTTP status and challenge (RFC 6750 §3.1, RFC 9449 §7.1,
 * RFC 9728 §5.1): read by the challenge builder, and so by the edge and the authorization plugin.
 */
export const OAUTH_ANSWERS: Readonly<Record<AnswerKind, AnswerRule>> = {
  // RFC 6750 §3.1: no error code when the request carried no credentials.
  authentication_required: { status: 401, clientCode: ErrorCode.UNAUTHENTICATED, challenge: { error: false, resourceMetadata: true, offerDpop: true } },
  invalid_request: { status: 400, clientCode: ErrorCode.BAD_REQUEST, challenge: { error: true, resourceMetadata: false, offerDpop: true }, message: '' },
  invalid_token: { status: 401, clientCode: ErrorCode.UNAUTHENTICATED, challenge: { error: true, resourceMetadata: true, offerDpop: true }, message: 'Invalid access token: ' },
  invalid_dpop_proof: { status: 401, clientCode: ErrorCode.UNAUTHENTICATED, challenge: { error: true, resourceMetadata: false, offerDpop: true }, message: 'Invalid DPoP proof: ' },
  // The token was accepted under its scheme: the answer stays in it.
  insufficient_scope: { status: 403, clientCode: ErrorCode.FORBIDDEN, challenge: { error: true, resourceMetadata: true, offerDpop: false } },
  unavailable: { status: 503, clientCode: ErrorCode.SERVICE_UNAVAILABLE, challenge: false, message: 'Token verification is temporarily unavailable' },
};

/**
 * A refusal of the request's credentials, answered with a `WWW-Authenticate` challenge carrying
 * `oauthError` (status and challenge: {@link OAUTH_ANSWERS}). `reason` is the
 * failure within `code`; `description` its client-safe `error_description`. Neither ever contains
 * a token or a proof; an underlying error is kept as `cause`, for logs only.
 */
export abstract class OAuthError<C extends RefusalCode = RefusalCode> extends Error {
  readonly code: C;
  readonly reason: ReasonOf<C>;
  /** OAuth error code for the `WWW-Authenticate` challenge. */
  readonly oauthError: OAuthErrorCode;
  /** Client-safe `error_description`. */
  readonly description: string;
  /** Raised only for the DPoP scheme, and so answered in it (RFC 9449 §7.1). */
  readonly dpopScheme: boolean;

  protected constructor(code: C, reason: ReasonOf<C>, options?: { cause?: unknown }) {
    const family = AUTH_ERROR_CATALOG[code] as Extract<CatalogFamily, { kind: 'refusal' }>;
    const description = family.reasons[reason]!;
    // An expected refusal, not a fault: no stack frames (the log line carries reason and cause).
    const restore = suspendStackTraces();
    try {
      super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    } finally {
      restore();
    }
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.oauthError = family.oauthError;
    this.description = description;
    this.dpopScheme = family.scheme === 'dpop';
  }

  /** HTTP status to answer with. */
  get status(): 400 | 401 {
    return OAUTH_ANSWERS[this.oauthError].status as 400 | 401;
  }
}

/**
 * Tokens cannot be judged right now: answered 503, never anonymous, never valid (fail closed).
 * `message` is for operators (it may name URLs, never a token); clients get a generic text.
 */
export abstract class AuthUnavailableError<C extends UnavailableCode = UnavailableCode> extends Error {
  readonly code: C;
  readonly reason: ReasonOf<C>;

  protected constructor(code: C, reason: ReasonOf<C>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
  }

  /** HTTP status to answer with. */
  get status(): 503 {
    return OAUTH_ANSWERS.unavailable.status as 503;
  }

  /** The `reason` of the operator's log line. */
  get logReason(): string {
    return (AUTH_ERROR_CATALOG[this.code].reasons as Readonly<Record<string, string>>)[this.reason]!;
  }
}
