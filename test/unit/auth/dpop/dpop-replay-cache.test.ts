import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DpopReplayCacheUnavailableError } from '../../../../src/auth/dpop/dpop-errors.js';
import { createDpopReplayCache, MemoryDpopReplayCache, RedisDpopReplayCache, type RedisReplayClient } from '../../../../src/auth/dpop/dpop-replay-cache.js';

describe('MemoryDpopReplayCache', () => {
  it('answers true for a new key and false for a replay', async () => {
    const cache = new MemoryDpopReplayCache();
    expect(await cache.markUsed('a', 60)).toBe(true);
    expect(await cache.markUsed('a', 60)).toBe(false);
    expect(await cache.markUsed('b', 60)).toBe(true);
  });

  it('forgets a key once its time to live has passed', async () => {
    const clock = { ms: 0 };
    const cache = new MemoryDpopReplayCache({ currentDate: () => new Date(clock.ms) });
    await cache.markUsed('a', 10);
    clock.ms = 9_999;
    expect(await cache.markUsed('a', 10)).toBe(false);
    clock.ms = 10_000;
    expect(await cache.markUsed('a', 10)).toBe(true);
  });

  it('stays within its bound', async () => {
    const cache = new MemoryDpopReplayCache({ maxEntries: 100 });
    for (let i = 0; i < 1000; i += 1) await cache.markUsed(`k${i}`, 60).catch(() => undefined);
    expect(cache.size).toBeLessThanOrEqual(100);
  });

  describe('when full (fails closed, never forgets an unexpired key)', () => {
    const fill = async (cache: MemoryDpopReplayCache, count: number, owner?: string) => {
      for (let i = 0; i < count; i += 1) expect(await cache.markUsed(`${owner ?? ''}k${i}`, 60, owner)).toBe(true);
    };

    it('still refuses a replay of the earliest unexpired key and refuses a new key as full', async () => {
      const clock = { ms: 0 };
      const cache = new MemoryDpopReplayCache({ maxEntries: 3, currentDate: () => new Date(clock.ms) });
      await fill(cache, 3);
      clock.ms = 30_000;
      await expect(cache.markUsed('new', 60)).rejects.toMatchObject({ code: DpopReplayCacheUnavailableError.code, reason: 'full' });
      await expect(cache.markUsed('new', 60)).rejects.toBeInstanceOf(DpopReplayCacheUnavailableError);
      expect(await cache.markUsed('k0', 60)).toBe(false);
      expect(await cache.markUsed('k2', 60)).toBe(false);
      expect(cache.size).toBe(3);
    });

    it('makes room again once entries expire', async () => {
      const clock = { ms: 0 };
      const cache = new MemoryDpopReplayCache({ maxEntries: 3, currentDate: () => new Date(clock.ms) });
      await fill(cache, 3);
      await expect(cache.markUsed('new', 60)).rejects.toBeInstanceOf(DpopReplayCacheUnavailableError);
      clock.ms = 60_000;
      expect(await cache.markUsed('new', 60)).toBe(true);
      expect(await cache.markUsed('new', 60)).toBe(false);
      expect(cache.size).toBeLessThanOrEqual(3);
    });

    it('frees an expired entry that is not the oldest one', async () => {
      const clock = { ms: 0 };
      const cache = new MemoryDpopReplayCache({ maxEntries: 3, currentDate: () => new Date(clock.ms) });
      expect(await cache.markUsed('long', 120)).toBe(true);
      expect(await cache.markUsed('short', 10)).toBe(true);
      expect(await cache.markUsed('long2', 120)).toBe(true);
      clock.ms = 10_000;
      expect(await cache.markUsed('new', 60)).toBe(true);
      expect(await cache.markUsed('long', 60)).toBe(false);
    });

    it('bounds each key thumbprint, so one key cannot fill the cache for everyone', async () => {
      const clock = { ms: 0 };
      const cache = new MemoryDpopReplayCache({ maxEntries: 10, maxEntriesPerKey: 2, currentDate: () => new Date(clock.ms) });
      await fill(cache, 2, 'greedy');
      await expect(cache.markUsed('greedy-more', 60, 'greedy')).rejects.toMatchObject({ reason: 'full' });
      expect(await cache.markUsed('greedyk0', 60, 'greedy')).toBe(false);
      expect(await cache.markUsed('other-1', 60, 'other')).toBe(true);
      clock.ms = 60_000;
      expect(await cache.markUsed('greedy-more', 60, 'greedy')).toBe(true);
    });

    it('refuses a per-key bound below 1 or above the total bound', () => {
      expect(() => new MemoryDpopReplayCache({ maxEntriesPerKey: 0 })).toThrow(TypeError);
      expect(() => new MemoryDpopReplayCache({ maxEntries: 5, maxEntriesPerKey: 6 })).toThrow(TypeError);
    });
  });

  it('drops lapsed entries as new ones arrive', async () => {
    const clock = { ms: 0 };
    const cache = new MemoryDpopReplayCache({ currentDate: () => new Date(clock.ms) });
    for (let i = 0; i < 50; i += 1) await cache.markUsed(`old${i}`, 1);
    clock.ms = 5_000;
    for (let i = 0; i < 10; i += 1) await cache.markUsed(`new${i}`, 1);
    expect(cache.size).toBe(10);
  });

  it('refuses a bound below 1', () => {
    expect(() => new MemoryDpopReplayCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});

describe('RedisDpopReplayCache', () => {
  it('uses SET NX with a whole-second TTL under a prefix', async () => {
    const calls: unknown[][] = [];
    const client: RedisReplayClient = {
      set: async (...args) => (calls.push(args), calls.length === 1 ? 'OK' : null),
      quit: async () => 'OK',
      disconnect: () => undefined,
    };
    const cache = new RedisDpopReplayCache(client, { keyPrefix: 'p:' });
    expect(await cache.markUsed('k', 59.2)).toBe(true);
    expect(await cache.markUsed('k', 0)).toBe(false);
    expect(calls).toEqual([
      ['p:k', '1', 'EX', 60, 'NX'],
      ['p:k', '1', 'EX', 1, 'NX'],
    ]);
  });

  it('reports a failing Redis as unavailable (the caller fails closed)', async () => {
    const client: RedisReplayClient = {
      set: async () => {
        throw new Error('Connection is closed.');
      },
      quit: async () => 'OK',
      disconnect: () => undefined,
    };
    await expect(new RedisDpopReplayCache(client).markUsed('k', 60)).rejects.toBeInstanceOf(DpopReplayCacheUnavailableError);
  });

  it('answers unavailable, quickly, when Redis cannot be reached', async () => {
    const cache = createDpopReplayCache({ redisUrl: 'redis://127.0.0.1:9', commandTimeoutMs: 200, connectTimeoutMs: 200 });
    try {
      await expect(cache.markUsed('k', 60)).rejects.toBeInstanceOf(DpopReplayCacheUnavailableError);
    } finally {
      await cache.close();
    }
  });

  it.each(['http://127.0.0.1:6379', 'not a url'])('refuses redisUrl %j', (redisUrl) => {
    expect(() => createDpopReplayCache({ redisUrl })).toThrow(TypeError);
  });

  it('is in memory without a redisUrl', () => {
    expect(createDpopReplayCache({})).toBeInstanceOf(MemoryDpopReplayCache);
  });
});

const redisUrl = process.env['TEST_REDIS_URL'];
if (redisUrl === undefined) console.info('Redis replay cache tests skipped: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run them');

(redisUrl === undefined ? describe.skip : describe)('RedisDpopReplayCache against a real Redis (TEST_REDIS_URL)', () => {
  const prefix = `test:dpop:${randomBytes(6).toString('hex')}:`;
  const caches = [createDpopReplayCache({ redisUrl: redisUrl!, keyPrefix: prefix }), createDpopReplayCache({ redisUrl: redisUrl!, keyPrefix: prefix })];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
  });

  it('shares used proofs between replicas', async () => {
    expect(await caches[0]!.markUsed('k1', 30)).toBe(true);
    expect(await caches[1]!.markUsed('k1', 30)).toBe(false);
  });

  it('sets the time to live on the key', async () => {
    await caches[0]!.markUsed('k2', 30);
    const redis = new Redis(redisUrl!);
    try {
      const ttl = await redis.ttl(`${prefix}k2`);
      expect(ttl).toBeGreaterThan(25);
      expect(ttl).toBeLessThanOrEqual(30);
    } finally {
      redis.disconnect();
    }
  });

  it('lets exactly one of many concurrent uses through', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => caches[i % 2]!.markUsed('k3', 30)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
