import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { ChallengeAnswer, ChallengeBuilder } from '../auth/challenge-builder.js';
import { DpopBindingError } from '../auth/dpop/dpop-errors.js';
import type { DpopVerifier } from '../auth/dpop/dpop-verifier.js';
import { type AnswerKind, AuthUnavailableError, OAUTH_ANSWERS, OAuthError } from '../auth/oauth-errors.js';
import { ANONYMOUS, type ClientPrincipal, type Principal, type UserPrincipal } from '../auth/principal.js';
import { TokenError } from '../auth/token-error.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { withoutStackTrace } from '../errors.js';
import type { Logger } from '../logger.js';
import { NO_METRICS, type Metrics } from '../lib/metrics.js';
import { inSpan } from '../lib/tracing.js';
import { type BearerRequest, type Credentials, extractCredentials } from './credentials.js';

/**
 * Turns the request's credentials into a principal, before any GraphQL work: no token → anonymous;
 * a valid token → its principal; anything else ends the request here (RFC 6750 §3.1, RFC 9449 §7.1)
 * with the answer `challenges` builds: 400 `invalid_request`, 401 `invalid_token` or
 * `invalid_dpop_proof`, or 503 when the authorization server or the DPoP replay cache is
 * unreachable (fail closed: never anonymous, never valid). Reasons go to the log, never the token
 * or the proof.
 *
 * With `dpop`, `Authorization: DPoP <token>` plus one `DPoP` proof header is accepted as well
 * (`req.method` and `req.url` are then required), and every challenge offers both schemes. With or
 * without it, a DPoP-bound token (`cnf.jkt`) is refused under the Bearer scheme (RFC 9449 §7.2).
 *
 * Each refusal is counted in `metrics` (token refusals by reason and issuer, DPoP refusals by
 * reason), and verification runs in a `token.verify` span.
 *
 * @throws {TypeError} when `dpop` is given but `challenges` do not offer DPoP, or the reverse.
 */
export async function authenticate(
  req: BearerRequest,
  verifier: TokenVerifier,
  challenges: ChallengeBuilder,
  log: Logger,
  dpop?: DpopVerifier,
  metrics: Metrics = NO_METRICS,
): Promise<Principal> {
  if ((dpop === undefined) !== (challenges.dpopAlgorithms === undefined)) throw new TypeError('authenticate: challenges must offer DPoP exactly when a DPoP verifier is given');
  let scheme: 'bearer' | 'dpop' | undefined;
  try {
    const credentials = extractCredentials(req, { dpop: dpop !== undefined });
    if (credentials.kind === 'none') return ANONYMOUS;
    scheme = credentials.kind;
    return await inSpan('token.verify', { 'oauth.scheme': credentials.kind }, async () => {
      if (credentials.kind === 'dpop' && dpop !== undefined) return authenticateDpop(credentials, req, verifier, dpop);
      const principal = await verifier.verify(credentials.token);
      if (principal.confirmationJkt !== undefined) throw new DpopBindingError('bound_token_as_bearer');
      return principal;
    });
  } catch (error) {
    if (error instanceof OAuthError) {
      const fields = error instanceof TokenError ? error.logFields() : { reason: error.reason };
      if (DPOP_FAMILIES.has(error.code)) metrics.dpopRefused(error.reason);
      else metrics.tokenRefused(error.reason, error instanceof TokenError ? error.issuer : undefined);
      log.info({ event: `auth.${error.oauthError}`, scheme, ...fields, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'credentials refused');
      // invalid_request names what was wrong (nothing secret); the others say only which error.
      const reason = error.oauthError === 'invalid_request' ? error.reason : error.oauthError;
      return Promise.reject(httpError(error.oauthError, challenges.refused(error, scheme), `${OAUTH_ANSWERS[error.oauthError].message ?? ''}${error.description}`, { reason }));
    }
    if (error instanceof AuthUnavailableError) {
      const replay = error.code === 'ERR_DPOP_REPLAY_CACHE_UNAVAILABLE';
      // The replay cache's message says only that it failed; its cause says how (never a proof).
      const detail = replay && error.cause instanceof Error ? error.cause.message : error.message;
      log.warn({ event: 'auth.unavailable', reason: error.logReason, detail }, replay ? 'cannot check DPoP proofs for replay' : 'cannot verify tokens');
      return Promise.reject(httpError('unavailable', challenges.unavailable(), OAUTH_ANSWERS.unavailable.message ?? ''));
    }
    throw error;
  }
}

/** Error families of DPoP proofs and bindings, counted apart from token refusals. */
const DPOP_FAMILIES: ReadonlySet<string> = new Set(['ERR_INVALID_DPOP_PROOF', 'ERR_DPOP_BINDING', 'ERR_INVALID_DPOP_REQUEST']);

function httpError(kind: AnswerKind, answer: ChallengeAnswer, message: string, detail: Record<string, unknown> = {}): GraphQLError {
  const headers = new HeaderMap();
  if (answer.challenge !== undefined) headers.set('www-authenticate', answer.challenge);
  // RFC 9110 §10.2.3: when to try again.
  if (answer.status === 503) headers.set('retry-after', '5');
  return withoutStackTrace(() => new GraphQLError(message, { extensions: { ...detail, code: OAUTH_ANSWERS[kind].clientCode, http: { status: answer.status, headers } } }));
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
