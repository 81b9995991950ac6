import { describe, expect, it } from '@jest/globals';
import { DpopBindingError, DpopProofError, DpopReplayCacheUnavailableError } from '../../../../src/auth/dpop/dpop-errors.js';
import { type DpopReplayCache, MemoryDpopReplayCache } from '../../../../src/auth/dpop/dpop-replay-cache.js';
import { createDpopVerifier, type DpopVerifier, type DpopVerifierOptions } from '../../../../src/auth/dpop/dpop-verifier.js';
import { createDpopKey, type DpopKey, type DpopProofInput, signDpopProof } from '../../../fixtures/authorization-server.js';

const NOW_SEC = Date.parse('2025-06-01T12:00:00Z') / 1000;
const PUBLIC_URL = 'https://api.example';
const TOKEN = 'header.payload.signature';

const clientKey = await createDpopKey('ES256');
const otherKey = await createDpopKey('ES256');

function verifierAt(seconds: { now: number }, options: Partial<DpopVerifierOptions> = {}): DpopVerifier {
  return createDpopVerifier({ baseUrls: [PUBLIC_URL], currentDate: () => new Date(seconds.now * 1000), ...options });
}

function proof(overrides: Partial<DpopProofInput> = {}, key: DpopKey = clientKey): Promise<string> {
  return signDpopProof(key, { htm: 'POST', htu: `${PUBLIC_URL}/graphql`, accessToken: TOKEN, iat: NOW_SEC, ...overrides });
}

/** verifyProof then confirm, as authenticate does; the error's reason or 'accepted'. */
async function outcome(verifier: DpopVerifier, value: string, options: { url?: string; jkt?: string | undefined } = {}): Promise<string> {
  try {
    const verified = await verifier.verifyProof({ proof: value, accessToken: TOKEN, method: 'POST', url: options.url ?? '/graphql' });
    await verifier.confirm(verified, 'jkt' in options ? options.jkt : clientKey.jkt);
  } catch (error) {
    if (error instanceof DpopProofError || error instanceof DpopBindingError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('createDpopVerifier', () => {
  it('accepts a fresh proof once and refuses it when replayed (§4.3 step 11)', async () => {
    const verifier = verifierAt({ now: NOW_SEC });
    const value = await proof();
    expect(await outcome(verifier, value)).toBe('accepted');
    expect(await outcome(verifier, value)).toBe('replayed');
  });

  it('refuses a new proof that reuses a jti with the same key', async () => {
    const verifier = verifierAt({ now: NOW_SEC });
    expect(await outcome(verifier, await proof({ jti: 'same' }))).toBe('accepted');
    expect(await outcome(verifier, await proof({ jti: 'same', iat: NOW_SEC + 1 }))).toBe('replayed');
  });

  it('keeps one key’s jti apart from another’s', async () => {
    const verifier = verifierAt({ now: NOW_SEC });
    expect(await outcome(verifier, await proof({ jti: 'shared' }))).toBe('accepted');
    expect(await outcome(verifier, await proof({ jti: 'shared' }, otherKey), { jkt: otherKey.jkt })).toBe('accepted');
  });

  it('remembers a jti until its proof’s iat leaves the window', async () => {
    const recorded: number[] = [];
    const replayCache: DpopReplayCache = { markUsed: async (_key, ttlSec) => (recorded.push(ttlSec), true), close: async () => undefined };
    const verifier = verifierAt({ now: NOW_SEC }, { replayCache });
    await outcome(verifier, await proof({ iat: NOW_SEC + 30 }));
    await outcome(verifier, await proof({ iat: NOW_SEC - 50 }));
    expect(recorded).toEqual([90, 10]);
  });

  it('refuses a token bound to another key (§4.3 step 12, cnf.jkt)', async () => {
    expect(await outcome(verifierAt({ now: NOW_SEC }), await proof(), { jkt: otherKey.jkt })).toBe('key_mismatch');
  });

  it('refuses a token that is not DPoP-bound', async () => {
    expect(await outcome(verifierAt({ now: NOW_SEC }), await proof(), { jkt: undefined })).toBe('not_bound');
  });

  it('does not spend the jti of a proof refused for its key binding', async () => {
    const verifier = verifierAt({ now: NOW_SEC });
    const value = await proof();
    expect(await outcome(verifier, value, { jkt: otherKey.jkt })).toBe('key_mismatch');
    expect(await outcome(verifier, value)).toBe('accepted');
  });

  it('fails closed when the replay cache is unreachable', async () => {
    const replayCache: DpopReplayCache = {
      markUsed: async () => {
        throw new Error('ECONNREFUSED');
      },
      close: async () => undefined,
    };
    const verifier = verifierAt({ now: NOW_SEC }, { replayCache });
    const verified = await verifier.verifyProof({ proof: await proof(), accessToken: TOKEN, method: 'POST', url: '/graphql' });
    await expect(verifier.confirm(verified, clientKey.jkt)).rejects.toBeInstanceOf(DpopReplayCacheUnavailableError);
  });

  it('fails closed when the in-memory replay cache is full, still refusing replays of what it holds', async () => {
    const clock = { now: NOW_SEC };
    const replayCache = new MemoryDpopReplayCache({ maxEntries: 2, maxEntriesPerKey: 2, currentDate: () => new Date(clock.now * 1000) });
    const verifier = verifierAt(clock, { replayCache });
    const first = await proof();
    expect(await outcome(verifier, first)).toBe('accepted');
    expect(await outcome(verifier, await proof())).toBe('accepted');
    const verified = await verifier.verifyProof({ proof: await proof(), accessToken: TOKEN, method: 'POST', url: '/graphql' });
    await expect(verifier.confirm(verified, clientKey.jkt)).rejects.toMatchObject({ code: DpopReplayCacheUnavailableError.code, reason: 'full' });
    expect(await outcome(verifier, first)).toBe('replayed');
  });

  it('tells the replay cache which key a proof belongs to (per-key bound)', async () => {
    const owners: Array<string | undefined> = [];
    const replayCache: DpopReplayCache = { markUsed: async (_key, _ttl, owner) => (owners.push(owner), true), close: async () => undefined };
    await outcome(verifierAt({ now: NOW_SEC }, { replayCache }), await proof());
    expect(owners).toEqual([clientKey.jkt]);
  });

  describe('htu', () => {
    it('is the base URL plus the request path, ignoring the query', async () => {
      expect(await outcome(verifierAt({ now: NOW_SEC }), await proof(), { url: '/graphql?operationName=Q' })).toBe('accepted');
    });

    it('must match the request path', async () => {
      expect(await outcome(verifierAt({ now: NOW_SEC }), await proof(), { url: '/other' })).toBe('htu_mismatch');
    });

    it('accepts the server’s own URL once added, and nothing else', async () => {
      const verifier = verifierAt({ now: NOW_SEC });
      const own = await proof({ htu: 'http://127.0.0.1:40123/graphql' });
      expect(await outcome(verifier, own)).toBe('htu_mismatch');
      verifier.addBaseUrl('http://127.0.0.1:40123');
      expect(await outcome(verifier, own)).toBe('accepted');
      expect(await outcome(verifier, await proof())).toBe('accepted');
      expect(await outcome(verifier, await proof({ htu: 'http://127.0.0.1:40124/graphql' }))).toBe('htu_mismatch');
    });

    it('keeps a base URL’s path prefix (a proxy that strips it)', async () => {
      const verifier = verifierAt({ now: NOW_SEC }, { baseUrls: ['https://gateway.example/orders/'] });
      expect(await outcome(verifier, await proof({ htu: 'https://gateway.example/orders/graphql' }))).toBe('accepted');
      expect(await outcome(verifier, await proof({ htu: 'https://gateway.example/graphql' }))).toBe('htu_mismatch');
    });

    it('reads the path of an absolute-form request-target', async () => {
      expect(await outcome(verifierAt({ now: NOW_SEC }), await proof(), { url: 'http://internal:4000/graphql?x=1' })).toBe('accepted');
    });
  });

  it('uses the injected clock for iat', async () => {
    const clock = { now: NOW_SEC };
    const verifier = verifierAt(clock);
    const value = await proof();
    clock.now = NOW_SEC + 61;
    expect(await outcome(verifier, value)).toBe('iat_out_of_window');
  });

  it('advertises its algorithms', () => {
    expect(verifierAt({ now: NOW_SEC }, { algorithms: ['ES256', 'EdDSA'] }).algorithms).toEqual(['ES256', 'EdDSA']);
    expect(verifierAt({ now: NOW_SEC }).algorithms[0]).toBe('ES256');
  });

  it.each<[string, Partial<DpopVerifierOptions>]>([
    ['no base URL', { baseUrls: [] }],
    ['a relative base URL', { baseUrls: ['/graphql'] }],
    ['a base URL with a query', { baseUrls: ['https://api.example/?a=1'] }],
    ['a base URL with credentials', { baseUrls: ['https://user:pw@api.example'] }],
    ['an HMAC algorithm', { algorithms: ['HS256'] }],
    ['alg none', { algorithms: ['none'] }],
    ['an empty algorithm list', { algorithms: [] }],
    ['a negative window', { iatWindowSec: -1 }],
  ])('refuses %s at construction', (_name, options) => {
    expect(() => verifierAt({ now: NOW_SEC }, options)).toThrow(TypeError);
  });
});
