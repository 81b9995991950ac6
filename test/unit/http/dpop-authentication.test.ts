import { describe, expect, it } from '@jest/globals';
import type { GraphQLError } from 'graphql';
import type { BearerRequest } from '../../../src/http/credentials.js';
import { principalFromClaims } from '../../../src/auth/claims-principal.js';
import { DpopReplayCacheUnavailableError } from '../../../src/auth/dpop/dpop-errors.js';
import { MemoryDpopReplayCache } from '../../../src/auth/dpop/dpop-replay-cache.js';
import { createDpopVerifier, type DpopVerifier } from '../../../src/auth/dpop/dpop-verifier.js';
import { TokenError } from '../../../src/auth/token-error.js';
import type { TokenVerifier } from '../../../src/auth/token-verifier.js';
import { authenticate } from '../../../src/http/authentication.js';
import { createChallengeBuilder } from '../../../src/auth/challenge-builder.js';
import type { Logger } from '../../../src/logger.js';
import { createDpopKey, type DpopProofInput, signDpopProof } from '../../fixtures/authorization-server.js';

const PUBLIC_URL = 'https://api.example';
const CHALLENGE = { realm: 'https://api.example/graphql', resourceMetadataUrl: 'https://api.example/.well-known/oauth-protected-resource/graphql' };
const clientKey = await createDpopKey('ES256');
const otherKey = await createDpopKey('ES256');

// Opaque stand-ins for access tokens: what matters here is which claims the verifier returns.
const BOUND = 'bound.access.token';
const BOUND_TO_OTHER = 'bound-to-other.access.token';
const UNBOUND = 'unbound.access.token';
const INVALID = 'invalid.access.token';

function fakeVerifier(): { verifier: TokenVerifier; calls: string[] } {
  const calls: string[] = [];
  const claims: Record<string, Record<string, unknown>> = {
    [BOUND]: { client_id: 'svc', scope: 'read:orders', cnf: { jkt: clientKey.jkt } },
    [BOUND_TO_OTHER]: { client_id: 'svc', cnf: { jkt: otherKey.jkt } },
    [UNBOUND]: { client_id: 'svc', scope: 'read:orders' },
  };
  const verify = async (token: string) => {
    calls.push(token);
    const found = claims[token];
    if (found === undefined) throw new TokenError('bad_signature');
    return principalFromClaims(found, 'https://as.example');
  };
  return { verifier: { verify } as unknown as TokenVerifier, calls };
}

function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    info: (obj, msg) => void lines.push(JSON.stringify({ obj, msg })),
    warn: (obj, msg) => void lines.push(JSON.stringify({ obj, msg })),
    error: (obj, msg) => void lines.push(JSON.stringify({ obj, msg })),
    child: () => log,
  };
  return { log, lines };
}

function dpopRequest(token: string, proofs: string[], options: { scheme?: string; method?: string; url?: string } = {}): BearerRequest {
  const rawHeaders = ['Authorization', `${options.scheme ?? 'DPoP'} ${token}`, ...proofs.flatMap((proof) => ['DPoP', proof])];
  const headers: Record<string, string> = { authorization: rawHeaders[1]! };
  if (proofs.length > 0) headers['dpop'] = proofs.join(', ');
  return { headers, rawHeaders, method: options.method ?? 'POST', url: options.url ?? '/graphql' };
}

function proofFor(token: string, overrides: Partial<DpopProofInput> = {}): Promise<string> {
  return signDpopProof(clientKey, { htm: 'POST', htu: `${PUBLIC_URL}/graphql`, accessToken: token, ...overrides });
}

interface Outcome {
  status: number;
  challenge: string | undefined;
  reason: unknown;
}

async function outcome(promise: Promise<unknown>): Promise<Outcome | 'authenticated'> {
  try {
    await promise;
    return 'authenticated';
  } catch (error) {
    const { http, reason } = (error as GraphQLError).extensions as { http: { status: number; headers: Map<string, string> }; reason: unknown };
    return { status: http.status, challenge: http.headers.get('www-authenticate'), reason };
  }
}

describe('authenticate with DPoP', () => {
  const setup = (dpop: DpopVerifier = createDpopVerifier({ baseUrls: [PUBLIC_URL], algorithms: ['ES256', 'EdDSA'] })) => {
    const { verifier, calls } = fakeVerifier();
    const { log, lines } = capturingLogger();
    return { run: (req: BearerRequest) => authenticate(req, verifier, createChallengeBuilder({ ...CHALLENGE, dpopAlgorithms: dpop.algorithms }), log, dpop), calls, lines };
  };

  it('accepts a bound token with a fresh proof and exposes the confirmation', async () => {
    const { run } = setup();
    const principal = await run(dpopRequest(BOUND, [await proofFor(BOUND)]));
    expect(principal).toMatchObject({ kind: 'client', subject: 'svc', confirmationJkt: clientKey.jkt });
  });

  it('refuses a replayed proof: 401 invalid_dpop_proof with algs', async () => {
    const { run } = setup();
    const req = dpopRequest(BOUND, [await proofFor(BOUND)]);
    await run(req);
    expect(await outcome(run(req))).toEqual({
      status: 401,
      challenge: `DPoP realm="${CHALLENGE.realm}", error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256 EdDSA"`,
      reason: 'invalid_dpop_proof',
    });
  });

  it.each<[string, () => Promise<BearerRequest>]>([
    ['a proof for another method', async () => dpopRequest(BOUND, [await proofFor(BOUND, { htm: 'GET' })])],
    ['a proof for another URL', async () => dpopRequest(BOUND, [await proofFor(BOUND, { htu: 'https://other.example/graphql' })])],
    ['a proof for another token', async () => dpopRequest(BOUND, [await proofFor(UNBOUND)])],
    ['a stale proof', async () => dpopRequest(BOUND, [await proofFor(BOUND, { iat: Math.floor(Date.now() / 1000) - 300 })])],
    ['garbage as the proof', async () => dpopRequest(BOUND, ['garbage'])],
  ])('refuses %s without verifying the access token', async (_name, build) => {
    const { run, calls } = setup();
    expect(await outcome(run(await build()))).toMatchObject({ status: 401, challenge: expect.stringMatching(/^DPoP .*error="invalid_dpop_proof"/), reason: 'invalid_dpop_proof' });
    expect(calls).toEqual([]);
  });

  it('refuses a token bound to another key: 401 invalid_dpop_proof', async () => {
    const { run } = setup();
    expect(await outcome(run(dpopRequest(BOUND_TO_OTHER, [await proofFor(BOUND_TO_OTHER)])))).toMatchObject({ status: 401, reason: 'invalid_dpop_proof' });
  });

  it('refuses an invalid token under the DPoP scheme with a DPoP invalid_token challenge', async () => {
    const { run } = setup();
    const result = await outcome(run(dpopRequest(INVALID, [await proofFor(INVALID)])));
    expect(result).toMatchObject({ status: 401, reason: 'invalid_token' });
    expect((result as Outcome).challenge).toMatch(/^DPoP realm="[^"]+", error="invalid_token", error_description="invalid signature", resource_metadata="[^"]+", algs="ES256 EdDSA"$/);
  });

  it('refuses an unbound token under the DPoP scheme (invalid_token)', async () => {
    const { run } = setup();
    expect(await outcome(run(dpopRequest(UNBOUND, [await proofFor(UNBOUND)])))).toMatchObject({ status: 401, challenge: expect.stringMatching(/^DPoP .*error="invalid_token"/), reason: 'invalid_token' });
  });

  it.each<[string, string[]]>([
    ['no DPoP header', []],
    ['two DPoP headers', ['a.b.c', 'd.e.f']],
  ])('answers 400 invalid_request for the DPoP scheme with %s', async (_name, proofs) => {
    const { run } = setup();
    expect(await outcome(run(dpopRequest(BOUND, proofs)))).toMatchObject({ status: 400, challenge: expect.stringMatching(/^DPoP .*error="invalid_request".*algs="ES256 EdDSA"$/) });
  });

  describe('the Bearer scheme', () => {
    it('refuses a DPoP-bound token presented as a bearer token, offering DPoP', async () => {
      const { run } = setup();
      const result = await outcome(run(dpopRequest(BOUND, [], { scheme: 'Bearer' })));
      expect(result).toMatchObject({ status: 401, reason: 'invalid_token' });
      expect((result as Outcome).challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="DPoP-bound access token presented as a bearer token", resource_metadata="[^"]+", DPoP realm="[^"]+", algs="ES256 EdDSA"$/);
    });

    it('refuses it even with a valid proof beside it', async () => {
      const { run } = setup();
      expect(await outcome(run(dpopRequest(BOUND, [await proofFor(BOUND)], { scheme: 'Bearer' })))).toMatchObject({ status: 401, reason: 'invalid_token' });
    });

    it('refuses it when DPoP is not configured at all', async () => {
      const { verifier } = fakeVerifier();
      const result = await outcome(authenticate(dpopRequest(BOUND, [], { scheme: 'Bearer' }), verifier, createChallengeBuilder(CHALLENGE), capturingLogger().log));
      expect(result).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Bearer .*error="invalid_token"/), reason: 'invalid_token' });
      expect((result as Outcome).challenge).not.toMatch(/, DPoP /);
    });

    it('still accepts an unbound bearer token', async () => {
      const { run } = setup();
      expect(await run(dpopRequest(UNBOUND, [], { scheme: 'Bearer' }))).toMatchObject({ kind: 'client', subject: 'svc' });
    });

    it('offers both schemes when a bearer token is invalid', async () => {
      const { run } = setup();
      const result = (await outcome(run(dpopRequest(INVALID, [], { scheme: 'Bearer' })))) as Outcome;
      expect(result.challenge).toMatch(/^Bearer .*error="invalid_token".*, DPoP realm="[^"]+", algs="ES256 EdDSA"$/);
    });
  });

  it('keeps the Bearer-only behaviour without a DPoP verifier: the DPoP scheme is unsupported', async () => {
    const { verifier } = fakeVerifier();
    const result = await outcome(authenticate(dpopRequest(BOUND, [await proofFor(BOUND)]), verifier, createChallengeBuilder(CHALLENGE), capturingLogger().log));
    expect(result).toMatchObject({ status: 400, reason: 'unsupported_scheme' });
    expect((result as Outcome).challenge).not.toMatch(/DPoP/);
  });

  it('answers 503 when the replay cache is unreachable (fail closed)', async () => {
    const dpop = createDpopVerifier({
      baseUrls: [PUBLIC_URL],
      replayCache: {
        markUsed: async () => {
          throw new DpopReplayCacheUnavailableError('redis down');
        },
        close: async () => undefined,
      },
    });
    const { run } = setup(dpop);
    expect(await outcome(run(dpopRequest(BOUND, [await proofFor(BOUND)])))).toMatchObject({ status: 503 });
  });

  it('answers 503 with Retry-After when the in-memory replay cache is full, with one warn line and no token or proof', async () => {
    const dpop = createDpopVerifier({ baseUrls: [PUBLIC_URL], replayCache: new MemoryDpopReplayCache({ maxEntries: 1 }) });
    const { verifier } = fakeVerifier();
    const lines: string[] = [];
    const log: Logger = {
      info: (obj, msg) => void lines.push(JSON.stringify({ level: 'info', obj, msg })),
      warn: (obj, msg) => void lines.push(JSON.stringify({ level: 'warn', obj, msg })),
      error: (obj, msg) => void lines.push(JSON.stringify({ level: 'error', obj, msg })),
      child: () => log,
    };
    const run = (req: BearerRequest) => authenticate(req, verifier, createChallengeBuilder({ ...CHALLENGE, dpopAlgorithms: dpop.algorithms }), log, dpop);
    const first = await proofFor(BOUND);
    await run(dpopRequest(BOUND, [first]));
    const second = await proofFor(BOUND);
    const refused = await run(dpopRequest(BOUND, [second])).catch((error: unknown) => error as GraphQLError);
    expect(refused).toBeInstanceOf(Error);
    const { code, http } = (refused as GraphQLError).extensions as { code: string; http: { status: number; headers: Map<string, string> } };
    expect({ code, status: http.status, retryAfter: http.headers.get('retry-after') }).toEqual({ code: 'SERVICE_UNAVAILABLE', status: 503, retryAfter: '5' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', obj: { event: 'auth.unavailable', reason: 'dpop_replay_cache_full' } });
    for (const secret of [BOUND, first.split('.')[1]!, second.split('.')[1]!]) expect(lines[0]).not.toContain(secret);
    // What it holds is still refused as a replay.
    expect(await outcome(run(dpopRequest(BOUND, [first])))).toMatchObject({ status: 401, reason: 'invalid_dpop_proof' });
  });

  it('needs the request method and URL to check a proof (a wiring mistake, not a client error)', async () => {
    const { run } = setup();
    const req = dpopRequest(BOUND, [await proofFor(BOUND)]);
    delete req.method;
    await expect(run(req)).rejects.toThrow(TypeError);
  });

  it('never logs the token or the proof', async () => {
    const { run, lines } = setup();
    const proof = await proofFor(BOUND);
    await run(dpopRequest(BOUND, [proof]));
    await outcome(run(dpopRequest(BOUND, [proof])));
    await outcome(run(dpopRequest(BOUND, [await proofFor(BOUND, { htm: 'GET' })])));
    await outcome(run(dpopRequest(BOUND, [], { scheme: 'Bearer' })));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain(BOUND);
      expect(line).not.toContain(proof.split('.')[1]!);
    }
  });
});
