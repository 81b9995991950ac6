import { describe, expect, it } from '@jest/globals';
import { createIntrospectionVerifier } from '../../../../src/auth/introspection/introspection-verifier.js';
import { createMemorySharedCache } from '../../../../src/auth/cache/memory-shared-cache.js';
import type { Metrics } from '../../../../src/lib/metrics.js';
import { NO_METRICS } from '../../../../src/lib/metrics.js';
import { reasonOf } from '../../../fixtures/tokens.js';

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';
const ENDPOINT = 'https://as.example/introspect';

/** Metrics that keep every introspection event. */
function recording(): { metrics: Metrics; events: string[] } {
  const events: string[] = [];
  return { events, metrics: { ...NO_METRICS, introspection: (issuer, outcome) => void events.push(`${issuer} ${outcome}`) } };
}

describe('introspection metrics', () => {
  it('counts each request by outcome (active, inactive, failed) and each answer served from the cache', async () => {
    const now = Date.now();
    let answer: () => Response = () => Response.json({ active: true, iss: ISSUER, aud: AUDIENCE, sub: 'alice', scope: 'read:orders', exp: Math.floor(now / 1000) + 300 });
    const fetchStub = (async () => answer()) as unknown as typeof fetch;
    const { metrics, events } = recording();
    const verifier = createIntrospectionVerifier({ issuer: ISSUER, audience: AUDIENCE, endpoint: ENDPOINT, clientId: 'api', clientSecret: 'secret', fetch: fetchStub, cache: createMemorySharedCache(), metrics });

    await expect(reasonOf(verifier.verify('token-one'))).resolves.toBe('accepted');
    await expect(reasonOf(verifier.verify('token-one'))).resolves.toBe('accepted');
    answer = () => Response.json({ active: false });
    await expect(reasonOf(verifier.verify('token-two'))).resolves.toBe('inactive');
    answer = () => new Response('', { status: 502 });
    await expect(reasonOf(verifier.verify('token-three'))).resolves.toBe('introspection_unavailable');
    expect(events).toEqual([`${ISSUER} active`, `${ISSUER} cache_hit`, `${ISSUER} inactive`, `${ISSUER} failed`]);
    verifier.close();
  });
});
