import { describe, expect, it } from '@jest/globals';
import type { GraphQLError } from 'graphql';
import { createChallengeBuilder } from '../../../src/auth/challenge-builder.js';
import { DpopBindingError, DpopProofError, DpopReplayCacheUnavailableError, DpopRequestError } from '../../../src/auth/dpop/dpop-errors.js';
import type { DpopVerifier } from '../../../src/auth/dpop/dpop-verifier.js';
import { AUTH_ERROR_CATALOG, type AuthErrorCode, type CatalogFamily, OAUTH_ANSWERS } from '../../../src/auth/oauth-errors.js';
import { AuthServiceUnavailableError, InvalidRequestError, TokenError } from '../../../src/auth/token-error.js';
import type { TokenVerifier } from '../../../src/auth/token-verifier.js';
import { authenticate } from '../../../src/http/authentication.js';
import { silentLogger } from '../../../src/logger.js';

const SETTINGS = { realm: 'https://api.example/graphql', resourceMetadataUrl: 'https://api.example/.well-known/oauth-protected-resource/graphql', dpopAlgorithms: ['ES256', 'EdDSA'] };
const challenges = createChallengeBuilder(SETTINGS);

/** Every family the edge answers; the internal one (discovery) is wrapped by the verifiers first. */
type AnsweredCode = Exclude<AuthErrorCode, 'ERR_DISCOVERY_FAILED'>;
const MAKE: { readonly [C in AnsweredCode]: (reason: string) => Error } = {
  ERR_INVALID_TOKEN: (reason) => new TokenError(reason as never),
  ERR_INVALID_REQUEST: (reason) => new InvalidRequestError(reason as never),
  ERR_INVALID_DPOP_PROOF: (reason) => new DpopProofError(reason as never),
  ERR_DPOP_BINDING: (reason) => new DpopBindingError(reason as never),
  ERR_INVALID_DPOP_REQUEST: (reason) => new DpopRequestError(reason as never),
  ERR_AUTH_SERVICE_UNAVAILABLE: (reason) => new AuthServiceUnavailableError(reason as never, 'operator detail'),
  ERR_DPOP_REPLAY_CACHE_UNAVAILABLE: (reason) => new DpopReplayCacheUnavailableError('operator detail', { reason: reason as never }),
};

/** [code, reason] for every failure in the catalog. */
const FAILURES = (Object.keys(MAKE) as AnsweredCode[]).flatMap((code) => Object.keys(AUTH_ERROR_CATALOG[code].reasons).map((reason): [AnsweredCode, string] => [code, reason]));

/** The edge's answer when the token verifier throws `error` for a Bearer token. */
async function answerTo(error: Error): Promise<{ status: number; challenge: string | undefined; code: unknown; retryAfter: string | undefined }> {
  const verifier = { verify: async () => Promise.reject(error) } as unknown as TokenVerifier;
  const dpop = { algorithms: SETTINGS.dpopAlgorithms } as unknown as DpopVerifier;
  const req = { headers: { authorization: 'Bearer abc' }, rawHeaders: ['Authorization', 'Bearer abc'] };
  try {
    await authenticate(req, verifier, challenges, silentLogger, dpop);
  } catch (thrown) {
    const { http, code } = (thrown as GraphQLError).extensions as { http: { status: number; headers: Map<string, string> }; code: unknown };
    return { status: http.status, challenge: http.headers.get('www-authenticate'), code, retryAfter: http.headers.get('retry-after') };
  }
  throw new Error('accepted');
}

describe('the answer table: every catalog failure maps to one status and challenge', () => {
  it('covers every family of the catalog', () => {
    expect(Object.keys(AUTH_ERROR_CATALOG).sort()).toEqual([...Object.keys(MAKE), 'ERR_DISCOVERY_FAILED'].sort());
    expect(FAILURES.length).toBeGreaterThan(40);
  });

  const REFUSAL_STATUS = { invalid_request: 400, invalid_token: 401, invalid_dpop_proof: 401 } as const;
  const REFUSAL_CODE = { invalid_request: 'BAD_REQUEST', invalid_token: 'UNAUTHENTICATED', invalid_dpop_proof: 'UNAUTHENTICATED' } as const;

  it.each(FAILURES)('%s %s', async (code, reason) => {
    const family: CatalogFamily = AUTH_ERROR_CATALOG[code];
    const error = MAKE[code](reason);
    const answer = await answerTo(error);
    if (family.kind === 'unavailable') {
      expect(answer).toEqual({ status: 503, challenge: undefined, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
      expect((error as AuthServiceUnavailableError).status).toBe(503);
      return;
    }
    if (family.kind !== 'refusal') throw new Error(`unexpected family ${code}`);
    expect(answer.status).toBe(REFUSAL_STATUS[family.oauthError]);
    expect((error as TokenError).status).toBe(answer.status);
    expect(answer.code).toBe(REFUSAL_CODE[family.oauthError]);
    expect(answer.retryAfter).toBeUndefined();
    const description = family.reasons[reason]!;
    expect(description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
    const params = `realm="${SETTINGS.realm}", error="${family.oauthError}", error_description="${description}"${family.oauthError === 'invalid_token' ? `, resource_metadata="${SETTINGS.resourceMetadataUrl}"` : ''}`;
    // RFC 9449 §7.1: what only DPoP raises is answered in DPoP; the rest in Bearer with DPoP offered.
    expect(answer.challenge).toBe(
      family.scheme === 'dpop' ? `DPoP ${params}, algs="ES256 EdDSA"` : `Bearer ${params}, DPoP realm="${SETTINGS.realm}", algs="ES256 EdDSA"`,
    );
  });

  it('gives every answer kind a status, and a challenge to all but 503', () => {
    expect(Object.fromEntries(Object.entries(OAUTH_ANSWERS).map(([kind, rule]) => [kind, [rule.status, rule.challenge !== false]]))).toEqual({
      authentication_required: [401, true],
      invalid_request: [400, true],
      invalid_token: [401, true],
      invalid_dpop_proof: [401, true],
      insufficient_scope: [403, true],
      unavailable: [503, false],
    });
  });
});
