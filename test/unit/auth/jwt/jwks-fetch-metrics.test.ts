import { describe, expect, it } from '@jest/globals';
import { createRemoteKeySet } from '../../../../src/auth/jwt/remote-key-set.js';
import { createTestKey, keySet } from '../../../fixtures/tokens.js';

describe('key set fetches reported to onFetch', () => {
  it('reports each request as ok or failed, and none for an attempt the cooldown skips', async () => {
    const key = await createTestKey('RS256', 'k1');
    let up = true;
    let requests = 0;
    const fetchStub = (async () => {
      requests += 1;
      return up ? Response.json(keySet(key)) : new Response('down', { status: 503 });
    }) as unknown as typeof fetch;
    const outcomes: string[] = [];
    const keys = createRemoteKeySet(new URL('https://as.example/jwks'), { fetch: fetchStub, cooldownMs: 60_000, onFetch: (outcome) => void outcomes.push(outcome) });

    await keys.load();
    up = false;
    await expect(keys.load()).rejects.toMatchObject({ code: 'ERR_AUTH_SERVICE_UNAVAILABLE' });
    // An unknown kid right after the failure: the cooldown skips the fetch (the last keys are used).
    await expect(keys.getKey({ alg: 'RS256', kid: 'unknown' }, { payload: '', signature: '' })).rejects.toBeDefined();
    expect(requests).toBe(2);
    expect(outcomes).toEqual(['ok', 'failed']);
  });
});
