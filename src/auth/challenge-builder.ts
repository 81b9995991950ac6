import { type AnswerKind, OAUTH_ANSWERS, type OAuthError } from './oauth-errors.js';
import { bearerChallenge, type BearerChallengeParams, dpopChallenge, joinChallenges } from './www-authenticate.js';

/** What every challenge of this resource server says about it; fixed at start-up. */
export interface ChallengeSettings {
  /** `realm` of every challenge (RFC 6750 §3). */
  readonly realm: string;
  /** URL of this resource's RFC 9728 metadata, advertised as `resource_metadata` (RFC 9728 §5.1). */
  readonly resourceMetadataUrl: string;
  /** DPoP proof algorithms (RFC 9449 §7.1 `algs`) when DPoP is accepted; without, only Bearer is offered. */
  readonly dpopAlgorithms?: readonly string[];
}

/** A refusal's HTTP status and `WWW-Authenticate` value (undefined: no challenge, for 503). */
export interface ChallengeAnswer {
  readonly status: 400 | 401 | 403 | 503;
  readonly challenge: string | undefined;
}

/**
 * Builds every challenge from one {@link ChallengeSettings} and the answer table
 * ({@link OAUTH_ANSWERS}): the authentication edge and the authorization plugin are given the
 * same builder, so they answer alike.
 */
export interface ChallengeBuilder {
  /** The DPoP proof algorithms offered; undefined when DPoP is not accepted. */
  readonly dpopAlgorithms: readonly string[] | undefined;
  /**
   * Refused credentials. `scheme` is the scheme the credentials used, once read: an error under
   * DPoP, or one only DPoP raises, is answered in the DPoP scheme; any other in the Bearer scheme,
   * with DPoP offered beside it (RFC 9449 §7.1, §7.2).
   */
  refused(error: OAuthError, scheme?: 'bearer' | 'dpop'): ChallengeAnswer;
  /** No credentials where some are needed: 401 without an error code (RFC 6750 §3.1). */
  authenticationRequired(): ChallengeAnswer;
  /**
   * A valid token lacking what the operation needs: 403 `insufficient_scope` naming `scopes`, in
   * the DPoP scheme for a DPoP-bound token (accepted only under that scheme).
   */
  insufficientScope(refusal: { readonly scopes: readonly string[]; readonly description: string; readonly dpopBound: boolean }): ChallengeAnswer;
  /** Tokens cannot be judged right now: 503, no challenge. */
  unavailable(): ChallengeAnswer;
}

interface Detail {
  readonly description?: string;
  readonly scopes?: readonly string[];
  /** Answer in the DPoP scheme. */
  readonly dpop: boolean;
}

/** Makes the one {@link ChallengeBuilder} of a server, at start-up. */
export function createChallengeBuilder(settings: ChallengeSettings): ChallengeBuilder {
  const { realm, resourceMetadataUrl } = settings;
  const algs = settings.dpopAlgorithms === undefined ? undefined : Object.freeze([...settings.dpopAlgorithms]);
  // A bare DPoP challenge beside a Bearer one: both schemes are offered (RFC 9449 §7.2).
  const dpopOffer = algs === undefined ? undefined : dpopChallenge({ realm, algs });

  const answer = (kind: AnswerKind, detail: Detail): ChallengeAnswer => {
    const rule = OAUTH_ANSWERS[kind];
    if (rule.challenge === false) return { status: rule.status, challenge: undefined };
    const params: Omit<BearerChallengeParams, 'error'> = {
      realm,
      ...(detail.description !== undefined ? { errorDescription: detail.description } : {}),
      ...(detail.scopes !== undefined ? { scope: [...detail.scopes] } : {}),
      ...(rule.challenge.resourceMetadata ? { resourceMetadata: resourceMetadataUrl } : {}),
    };
    const error = rule.challenge.error && kind !== 'authentication_required' && kind !== 'unavailable' ? kind : undefined;
    // invalid_dpop_proof exists in the DPoP scheme only (RFC 9449 §7.1).
    if (detail.dpop || error === 'invalid_dpop_proof') {
      return { status: rule.status, challenge: dpopChallenge({ ...params, ...(error !== undefined ? { error } : {}), algs: algs ?? [] }) };
    }
    const bearer = bearerChallenge({ ...params, ...(error !== undefined ? { error } : {}) });
    return { status: rule.status, challenge: rule.challenge.offerDpop ? joinChallenges(bearer, dpopOffer) : bearer };
  };

  const authenticationRequired = answer('authentication_required', { dpop: false });
  const unavailable = answer('unavailable', { dpop: false });
  return Object.freeze({
    dpopAlgorithms: algs,
    refused: (error: OAuthError, scheme?: 'bearer' | 'dpop') => answer(error.oauthError, { description: error.description, dpop: error.dpopScheme || scheme === 'dpop' }),
    authenticationRequired: () => authenticationRequired,
    insufficientScope: ({ scopes, description, dpopBound }: { readonly scopes: readonly string[]; readonly description: string; readonly dpopBound: boolean }) =>
      answer('insufficient_scope', { description, scopes, dpop: dpopBound && algs !== undefined }),
    unavailable: () => unavailable,
  });
}
