import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { type BearerRequest, type Credentials, extractCredentials } from './credentials.js';
import { DpopBindingError, DpopProofError, DpopReplayCacheUnavailableError, DpopRequestError } from '../auth/dpop/dpop-errors.js';
import { OAuthError } from '../auth/oauth-error.js';
import type { DpopVerifier } from '../auth/dpop/dpop-verifier.js';
import { ANONYMOUS, type ClientPrincipal, type Principal, type UserPrincipal } from '../auth/principal.js';
import { AuthServiceUnavailableError, TokenError } from '../auth/token-error.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { ErrorCode, withoutStackTrace } from '../errors.js';
import { bearerChallenge, dpopChallenge, type DpopChallengeParams, joinChallenges } from './www-authenticate.js';
import type { Logger } from '../logger.js';

const CLIENT_MESSAGE_PREFIX: Readonly<Record<OAuthError<string>['oauthError'], string>> = {
  invalid_request: '',
  invalid_token: 'Invalid access token: ',
  invalid_dpop_proof: 'Invalid DPoP proof: ',
};

export interface ChallengeSettings {
  readonly realm: string;
  readonly resourceMetadataUrl: string;
}

function httpError(status: number, code: ErrorCode, message: string, challenge: string | undefined, detail: Record<string, unknown> = {}): GraphQLError {
  const headers = new HeaderMap();
  if (challenge) headers.set('www-authenticate', challenge);
  if (status === 503) headers.set('retry-after', '5');
  return withoutStackTrace(() => new GraphQLError(message, { extensions: { ...detail, code, http: { status, headers } } }));
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
    if (error instanceof OAuthError) {
      const fields = error instanceof TokenError ? error.logFields() : { reason: error.reason };
      log.info({ event: `auth.${error.oauthError}`, scheme, ...fields, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'credentials refused');
      const params = {
        realm: challenge.realm,
        error: error.oauthError,
        errorDescription: error.description,
        ...(error.oauthError === 'invalid_token' ? { resourceMetadata: challenge.resourceMetadataUrl } : {}),
      };
      // RFC 9449 §7.1: a proof problem, or any error under the DPoP scheme, is reported in that
      // scheme; otherwise the Bearer challenge, with DPoP offered beside it.
      const dpopOnly = error instanceof DpopProofError || error instanceof DpopRequestError || (error.oauthError === 'invalid_token' && scheme === 'dpop');
      // Not dpopOnly: never invalid_dpop_proof, so the params are valid Bearer parameters.
      const header = dpopOnly ? dpopOffer(params) : joinChallenges(bearerChallenge(params as Parameters<typeof bearerChallenge>[0]), dpopOffer());
      const badRequest = error.status === 400;
      return Promise.reject(
        httpError(error.status, badRequest ? ErrorCode.BAD_REQUEST : ErrorCode.UNAUTHENTICATED, `${CLIENT_MESSAGE_PREFIX[error.oauthError]}${error.description}`, header, {
          reason: badRequest ? error.reason : error.oauthError,
        }),
      );
    }
    if (error instanceof AuthServiceUnavailableError) {
      log.warn({ event: 'auth.unavailable', reason: error.reason, detail: error.message }, 'cannot verify tokens');
      return Promise.reject(httpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Token verification is temporarily unavailable', undefined));
    }
    if (error instanceof DpopReplayCacheUnavailableError) {
      const reason = error.reason === 'full' ? 'dpop_replay_cache_full' : 'dpop_replay_cache_unavailable';
      log.warn({ event: 'auth.unavailable', reason, detail: error.cause instanceof Error ? error.cause.message : error.message }, 'cannot check DPoP proofs for replay');
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
