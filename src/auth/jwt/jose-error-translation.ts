import { AuthServiceUnavailableError, TokenError, type TokenErrorReason } from '../token-error.js';

/**
 * Maps an error thrown by jose's `jwtVerify` to our errors, keeping jose's error as `cause` (for
 * logs only). Errors that are already ours pass through. Anything unrecognised fails closed as
 * `malformed`.
 */
export function translateJoseError(error: unknown): TokenError | AuthServiceUnavailableError {
  if (error instanceof TokenError || error instanceof AuthServiceUnavailableError) return error;
  return new TokenError(reasonFor(error), { cause: error });
}

function reasonFor(error: unknown): TokenErrorReason {
  const { code, claim, reason } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    claim?: unknown;
    reason?: unknown;
  };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      // jose reports a token older than `maxTokenAge` as expired, naming `iat`.
      return claim === 'iat' ? 'too_old' : 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return 'missing_claim';
      if (claim === 'iat' && reason === 'check_failed') return 'issued_in_future';
      if (claim === 'nbf' && reason === 'check_failed') return 'not_yet_valid';
      if (claim === 'iss' && reason === 'check_failed') return 'wrong_issuer';
      if (claim === 'aud' && reason === 'check_failed') return 'wrong_audience';
      if (claim === 'typ') return 'wrong_type';
      return 'invalid_claim';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg_not_allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JWK_INVALID':
    case 'ERR_JWKS_INVALID':
      return 'unknown_key';
    default:
      return 'malformed';
  }
}
