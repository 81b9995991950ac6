import { describe, expect, it } from '@jest/globals';
import { createPersistedQueryCache } from '../../../src/graphql/persisted-query-cache.js';
import { sha256 } from '../../fixtures/persisted-documents.js';

const TRUSTED_BODY = 'query Me { me { displayName } }';
const trusted = new Map([[sha256(TRUSTED_BODY), { body: TRUSTED_BODY }]]);

describe('persisted query cache (manifest first, then bounded APQ)', () => {
  it('serves a trusted document by its id, and misses an unknown hash', async () => {
    const cache = createPersistedQueryCache({ trusted, apqMaxBytes: 1000, acceptRegistrations: true });
    expect(await cache.get(sha256(TRUSTED_BODY))).toBe(TRUSTED_BODY);
    expect(await cache.get(sha256('{ me { id } }'))).toBeUndefined();
  });

  it('keeps registered documents within its byte bound, evicting the least recently used', async () => {
    const cache = createPersistedQueryCache({ trusted, apqMaxBytes: 100, acceptRegistrations: true });
    const docs = ['a', 'b', 'c'].map((c) => `{ ${c.repeat(40)} }`); // 44 bytes each: two fit
    for (const doc of docs) await cache.set(sha256(doc), doc);
    expect(await cache.get(sha256(docs[0]!))).toBeUndefined();
    expect(await cache.get(sha256(docs[1]!))).toBe(docs[1]);
    expect(await cache.get(sha256(docs[2]!))).toBe(docs[2]);
    // Trusted documents take no room and are never evicted.
    expect(await cache.get(sha256(TRUSTED_BODY))).toBe(TRUSTED_BODY);
  });

  it('does not store a document larger than the bound', async () => {
    const cache = createPersistedQueryCache({ trusted, apqMaxBytes: 10, acceptRegistrations: true });
    const big = `{ ${'x'.repeat(20)} }`;
    await cache.set(sha256(big), big);
    expect(await cache.get(sha256(big))).toBeUndefined();
  });

  it.each([
    ['registrations are refused (enforce)', { apqMaxBytes: 1000, acceptRegistrations: false }],
    ['APQ is disabled (0 bytes)', { apqMaxBytes: 0, acceptRegistrations: true }],
  ])('stores nothing when %s, still serving trusted documents', async (_what, options) => {
    const cache = createPersistedQueryCache({ trusted, ...options });
    const doc = '{ products { edges { cursor } } }';
    await cache.set(sha256(doc), doc);
    expect(await cache.get(sha256(doc))).toBeUndefined();
    expect(await cache.get(sha256(TRUSTED_BODY))).toBe(TRUSTED_BODY);
  });
});
