import { AuthServiceUnavailableError, TokenError, type TokenErrorReason } from '../token-error.js';

/**
 * Maps an error thrown by jose while picking a token's key from a key set (`createLocalJWKSet`,
 * `createRemoteJWKSet`: no key for the `kid` and `alg`, more than one, an unusable JWK) to our
 * errors, keeping jose's error as `cause` (for logs only). Errors that are already ours pass
 * through. Anything unrecognised fails closed as `malformed`.
 */
export function translateJoseError(error: unknown): TokenError | AuthServiceUnavailableError {
  if (error instanceof TokenError || error instanceof AuthServiceUnavailableError) return error;
  return new TokenError(reasonFor(error), { cause: error });
}

function reasonFor(error: unknown): TokenErrorReason {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JWK_INVALID':
    case 'ERR_JWKS_INVALID':
      return 'unknown_key';
    default:
      return 'malformed';
  }
}
