import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { extractBearer, type BearerRequest } from '../auth/bearer.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { AuthServiceUnavailableError, InvalidRequestError, TokenError } from '../auth/token-error.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { ErrorCode } from '../errors.js';
import { bearerChallenge } from '../http/www-authenticate.js';
import type { Logger } from '../logger.js';

export interface ChallengeSettings {
  readonly realm: string;
  readonly resourceMetadataUrl: string;
}

function httpError(status: number, code: ErrorCode, message: string, challenge: string | undefined, detail: Record<string, unknown> = {}): GraphQLError {
  const headers = new HeaderMap();
  if (challenge) headers.set('www-authenticate', challenge);
  if (status === 503) headers.set('retry-after', '5');
  return new GraphQLError(message, { extensions: { ...detail, code, http: { status, headers } } });
}

/**
 * Turns the request's credentials into a principal, before any GraphQL work: no token → anonymous;
 * a valid token → its principal; anything else ends the request here (RFC 6750 §3.1):
 * 400 `invalid_request`, 401 `invalid_token`, or 503 when the authorization server is unreachable
 * (fail closed: never anonymous, never valid). Reasons go to the log, never the token.
 */
export async function authenticate(req: BearerRequest, verifier: TokenVerifier, challenge: ChallengeSettings, log: Logger): Promise<Principal> {
  try {
    const credentials = extractBearer(req);
    if (credentials.kind === 'none') return ANONYMOUS;
    return await verifier.verify(credentials.token);
  } catch (error) {
    if (error instanceof InvalidRequestError) {
      log.info({ event: 'auth.invalid_request', reason: error.reason }, 'request refused');
      return Promise.reject(
        httpError(400, ErrorCode.BAD_REQUEST, error.description, bearerChallenge({ realm: challenge.realm, error: 'invalid_request', errorDescription: error.description }), { reason: error.reason }),
      );
    }
    if (error instanceof TokenError) {
      log.info({ event: 'auth.invalid_token', reason: error.reason, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'token refused');
      return Promise.reject(
        httpError(
          401,
          ErrorCode.UNAUTHENTICATED,
          `Invalid access token: ${error.description}`,
          bearerChallenge({ realm: challenge.realm, error: 'invalid_token', errorDescription: error.description, resourceMetadata: challenge.resourceMetadataUrl }),
          { reason: 'invalid_token' },
        ),
      );
    }
    if (error instanceof AuthServiceUnavailableError) {
      log.warn({ event: 'auth.unavailable', reason: error.reason, detail: error.message }, 'cannot verify tokens');
      return Promise.reject(httpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Token verification is temporarily unavailable', undefined));
    }
    throw error;
  }
}
