import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { type BearerRequest, type Credentials, extractCredentials } from '../auth/bearer.js';
import { DpopBindingError, DpopProofError, DpopReplayCacheUnavailableError, DpopRequestError } from '../auth/dpop-error.js';
import type { DpopVerifier } from '../auth/dpop-verifier.js';
import { ANONYMOUS, type ClientPrincipal, type Principal, type UserPrincipal } from '../auth/principal.js';
import { AuthServiceUnavailableError, InvalidRequestError, TokenError } from '../auth/token-error.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { ErrorCode } from '../errors.js';
import { bearerChallenge, dpopChallenge, type DpopChallengeParams, joinChallenges } from '../http/www-authenticate.js';
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
 * a valid token → its principal; anything else ends the request here (RFC 6750 §3.1, RFC 9449 §7.1):
 * 400 `invalid_request`, 401 `invalid_token` or `invalid_dpop_proof`, or 503 when the authorization
 * server or the DPoP replay cache is unreachable (fail closed: never anonymous, never valid).
 * Reasons go to the log, never the token or the proof.
 *
 * With `dpop`, `Authorization: DPoP <token>` plus one `DPoP` proof header is accepted as well
 * (`req.method` and `req.url` are then required), and every challenge offers both schemes. With or
 * without it, a DPoP-bound token (`cnf.jkt`) is refused under the Bearer scheme (RFC 9449 §7.2).
 */
export async function authenticate(req: BearerRequest, verifier: TokenVerifier, challenge: ChallengeSettings, log: Logger, dpop?: DpopVerifier): Promise<Principal> {
  let scheme: 'bearer' | 'dpop' | undefined;
  // A bare DPoP challenge beside a Bearer one: both schemes are offered (RFC 9449 §7.2).
  const dpopOffer = (params: Omit<DpopChallengeParams, 'algs'> = { realm: challenge.realm }): string | undefined =>
    dpop === undefined ? undefined : dpopChallenge({ ...params, algs: dpop.algorithms });
  try {
    const credentials = extractCredentials(req, { dpop: dpop !== undefined });
    if (credentials.kind === 'none') return ANONYMOUS;
    scheme = credentials.kind;
    if (credentials.kind === 'dpop' && dpop !== undefined) return await authenticateDpop(credentials, req, verifier, dpop);
    const principal = await verifier.verify(credentials.token);
    if (principal.confirmationJkt !== undefined) throw new DpopBindingError('bound_token_as_bearer');
    return principal;
  } catch (error) {
    if (error instanceof InvalidRequestError || error instanceof DpopRequestError) {
      log.info({ event: 'auth.invalid_request', reason: error.reason }, 'request refused');
      const params = { realm: challenge.realm, error: 'invalid_request', errorDescription: error.description } as const;
      const header = error instanceof DpopRequestError ? dpopOffer(params) : joinChallenges(bearerChallenge(params), dpopOffer());
      return Promise.reject(httpError(400, ErrorCode.BAD_REQUEST, error.description, header, { reason: error.reason }));
    }
    if (error instanceof DpopProofError) {
      log.info({ event: 'auth.invalid_dpop_proof', reason: error.reason, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'DPoP proof refused');
      return Promise.reject(
        httpError(401, ErrorCode.UNAUTHENTICATED, `Invalid DPoP proof: ${error.description}`, dpopOffer({ realm: challenge.realm, error: 'invalid_dpop_proof', errorDescription: error.description }), {
          reason: 'invalid_dpop_proof',
        }),
      );
    }
    if (error instanceof TokenError || error instanceof DpopBindingError) {
      const fields = error instanceof TokenError ? error.logFields() : { reason: error.reason };
      log.info({ event: 'auth.invalid_token', scheme, ...fields, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'token refused');
      const params = { realm: challenge.realm, error: 'invalid_token', errorDescription: error.description, resourceMetadata: challenge.resourceMetadataUrl } as const;
      // RFC 9449 §7.1: the error is reported in the scheme the token was presented with.
      const header = scheme === 'dpop' ? dpopOffer(params) : joinChallenges(bearerChallenge(params), dpopOffer());
      return Promise.reject(httpError(401, ErrorCode.UNAUTHENTICATED, `Invalid access token: ${error.description}`, header, { reason: 'invalid_token' }));
    }
    if (error instanceof AuthServiceUnavailableError) {
      log.warn({ event: 'auth.unavailable', reason: error.reason, detail: error.message }, 'cannot verify tokens');
      return Promise.reject(httpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Token verification is temporarily unavailable', undefined));
    }
    if (error instanceof DpopReplayCacheUnavailableError) {
      log.warn({ event: 'auth.unavailable', reason: 'dpop_replay_cache_unavailable', detail: error.cause instanceof Error ? error.cause.message : error.message }, 'cannot check DPoP proofs for replay');
      return Promise.reject(httpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Token verification is temporarily unavailable', undefined));
    }
    throw error;
  }
}

/**
 * RFC 9449 §4.3 and §7.1, cheapest first: the proof's stateless checks (no key lookup for a bad
 * proof), then the access token, then its binding to the proof key and the `jti` replay check.
 */
async function authenticateDpop(
  credentials: Extract<Credentials, { kind: 'dpop' }>,
  req: BearerRequest,
  verifier: TokenVerifier,
  dpop: DpopVerifier,
): Promise<UserPrincipal | ClientPrincipal> {
  if (req.method === undefined || req.url === undefined) throw new TypeError('authenticate: req.method and req.url are required to verify DPoP proofs');
  const proof = await dpop.verifyProof({ proof: credentials.proof, accessToken: credentials.token, method: req.method, url: req.url });
  const principal = await verifier.verify(credentials.token);
  await dpop.confirm(proof, principal.confirmationJkt);
  return principal;
}
