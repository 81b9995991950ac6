import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createIntrospectionVerifier } from '../../../../src/auth/introspection/introspection-verifier.js';
import { createRedisSharedCache } from '../../../../src/auth/cache/redis-shared-cache.js';
import type { SharedCache } from '../../../../src/auth/cache/shared-cache.js';
import type { Logger } from '../../../../src/logger.js';
import { TEST_REDIS_URL, redisReachable } from '../../../fixtures/redis.js';

const REDIS_URL = TEST_REDIS_URL;
const PREFIX = `test-${randomBytes(6).toString('hex')}:`;


const redisUp = await redisReachable(REDIS_URL);
if (!redisUp) console.info(`Redis tests skipped: nothing answers at ${new URL(REDIS_URL).host} (set TEST_REDIS_URL to point them elsewhere)`);
const describeWithRedis = redisUp ? describe : describe.skip;

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = {
    lines,
    info: (obj: Record<string, unknown>) => void lines.push(obj),
    warn: (obj: Record<string, unknown>) => void lines.push(obj),
    error: (obj: Record<string, unknown>) => void lines.push(obj),
    child: () => logger,
  };
  return logger;
}

const opened: SharedCache[] = [];
function cache(options: { keyPrefix?: string; url?: string; log?: Logger } = {}): SharedCache {
  const created = createRedisSharedCache({ url: options.url ?? REDIS_URL, keyPrefix: options.keyPrefix ?? PREFIX, ...(options.log ? { log: options.log } : {}) });
  opened.push(created);
  return created;
}

/** Waits until the cache's connection is up (it does not queue commands while connecting). */
async function connected(shared: SharedCache): Promise<SharedCache> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    await shared.set('probe', '1', 1000);
    if ((await shared.get('probe')) === '1') return shared;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('Redis cache did not connect');
}

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  if (!redisUp) return;
  const admin = new Redis(REDIS_URL);
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describeWithRedis('Redis shared cache (SharedCache on a real Redis)', () => {
  it('stores and reads values under its key prefix, with the TTL in Redis', async () => {
    const shared = await connected(cache());
    await shared.set('k1', 'v1', 60_000);
    expect(await shared.get('k1')).toBe('v1');
    expect(await shared.get('missing')).toBeUndefined();
    const admin = new Redis(REDIS_URL);
    try {
      expect(await admin.get(`${PREFIX}k1`)).toBe('v1');
      const ttl = await admin.pttl(`${PREFIX}k1`);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await admin.quit();
    }
  });

  it('lets entries expire in Redis', async () => {
    const shared = await connected(cache());
    await shared.set('short', 'v', 100);
    expect(await shared.get('short')).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await shared.get('short')).toBeUndefined();
  });

  it('is shared between replicas with the same prefix, and separate under another prefix', async () => {
    const replicaA = await connected(cache());
    const replicaB = await connected(cache());
    const elsewhere = await connected(cache({ keyPrefix: `${PREFIX}other:` }));
    await replicaA.set('shared', 'from-a', 60_000);
    expect(await replicaB.get('shared')).toBe('from-a');
    expect(await elsewhere.get('shared')).toBeUndefined();
  });

  it('degrades to misses (logged, never thrown) when Redis is unreachable', async () => {
    const log = recordingLogger();
    const broken = cache({ url: 'redis://127.0.0.1:1', log });
    const started = Date.now();
    await expect(broken.set('k', 'v', 60_000)).resolves.toBeUndefined();
    await expect(broken.get('k')).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.lines.some((line) => line['event'] === 'cache.redis_error')).toBe(true);
  });

  it('never logs the password in the URL', async () => {
    const log = recordingLogger();
    const broken = cache({ url: 'redis://:hunter2-pass@127.0.0.1:1', log });
    await broken.get('k');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(JSON.stringify(log.lines)).not.toContain('hunter2');
  });
});

describeWithRedis('introspection results shared between replicas through Redis', () => {
  const ISSUER = 'https://as.example';
  const AUDIENCE = 'https://api.example/graphql';
  const ENDPOINT = `${ISSUER}/introspect`;
  const exp = Math.floor(Date.now() / 1000) + 3600;

  function endpoint(answer: Record<string, unknown>) {
    const state = { calls: 0 };
    const fetchImpl = (async () => {
      state.calls += 1;
      return Response.json(answer);
    }) as typeof fetch;
    return { state, fetchImpl };
  }

  const replica = (cacheImpl: SharedCache, fetchImpl: typeof fetch) =>
    createIntrospectionVerifier({ issuer: ISSUER, audience: AUDIENCE, endpoint: ENDPOINT, clientId: 'rs', clientSecret: 'shared-secret', cache: cacheImpl, fetch: fetchImpl });

  it('one replica introspects; another with the same Redis reuses the result; Redis holds no token', async () => {
    const token = `opaque-${randomBytes(16).toString('base64url')}`;
    const { state, fetchImpl } = endpoint({ active: true, iss: ISSUER, aud: AUDIENCE, sub: 'alice', client_id: 'app', scope: 'read:orders', exp });
    const a = replica(await connected(cache()), fetchImpl);
    const b = replica(await connected(cache()), fetchImpl);
    await expect(a.verify(token)).resolves.toMatchObject({ kind: 'user', subject: 'alice' });
    await expect(b.verify(token)).resolves.toMatchObject({ kind: 'user', subject: 'alice' });
    expect(state.calls).toBe(1);

    const admin = new Redis(REDIS_URL);
    try {
      const key = `${PREFIX}introspection:${createHash('sha256').update(token).digest('base64url')}`;
      const stored = await admin.get(key);
      expect(stored).not.toBeNull();
      expect(stored).not.toContain(token);
      expect(stored).not.toContain('shared-secret');
      expect(await admin.pttl(key)).toBeLessThanOrEqual(60_000);
      const allKeys = await admin.keys(`${PREFIX}*`);
      expect(allKeys.join(' ')).not.toContain(token);
    } finally {
      await admin.quit();
    }
  });

  it('a replica with another client secret does not trust the shared entry', async () => {
    const token = `opaque-${randomBytes(16).toString('base64url')}`;
    const first = endpoint({ active: true, iss: ISSUER, aud: AUDIENCE, sub: 'alice', client_id: 'app', exp });
    await replica(await connected(cache()), first.fetchImpl).verify(token);
    const second = endpoint({ active: false });
    const stranger = createIntrospectionVerifier({ issuer: ISSUER, audience: AUDIENCE, endpoint: ENDPOINT, clientId: 'rs', clientSecret: 'another-secret', cache: await connected(cache()), fetch: second.fetchImpl });
    await expect(stranger.verify(token)).rejects.toMatchObject({ reason: 'inactive' });
    expect(second.state.calls).toBe(1);
  });

  it('with Redis down, every request is introspected: a miss, never an acceptance', async () => {
    const token = `opaque-${randomBytes(16).toString('base64url')}`;
    const { state, fetchImpl } = endpoint({ active: false });
    const verifier = replica(cache({ url: 'redis://127.0.0.1:1' }), fetchImpl);
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'inactive' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'inactive' });
    expect(state.calls).toBe(2);
  });
});
