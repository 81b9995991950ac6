import { Redis } from 'ioredis';
import { DEFAULT_REDIS_KEY_PREFIX } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { SharedCache } from './shared-cache.js';

/** Options for {@link createRedisSharedCache}. */
export interface RedisSharedCacheOptions {
  /** `redis://` or `rediss://` URL (may hold a password: never logged). */
  url: string;
  /** Prepended to every key, so deployments can share one Redis. Default: `orders-rs:`. */
  keyPrefix?: string;
  /** Time after which a command counts as failed (a miss), in milliseconds. Default: 500. */
  commandTimeoutMs?: number;
  /** Time to establish a connection, in milliseconds. Default: 2000. */
  connectTimeoutMs?: number;
  /** Where failures are reported (at most one line per 10 s while failing). Default: nowhere. */
  log?: Logger;
}

const LOG_INTERVAL_MS = 10_000;

/**
 * A {@link SharedCache} in Redis, shared by every replica pointing at it; entries expire in Redis
 * (`SET … PX`). While Redis is unreachable or slow, reads are misses and writes are dropped —
 * commands are not queued, so a request never waits longer than `commandTimeoutMs` for it — and
 * the client keeps reconnecting in the background.
 */
export function createRedisSharedCache(options: RedisSharedCacheOptions): SharedCache {
  const log = options.log;
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  let healthy = true;
  let closed = false;

  const report = (operation: string, error: unknown): void => {
    healthy = false;
    const now = Date.now();
    if (now - lastLoggedAt < LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    log?.warn({ event: 'cache.redis_error', operation, error: describe(error), suppressed }, 'Redis cache unavailable; treating as a miss');
    lastLoggedAt = now;
    suppressed = 0;
  };

  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    // Fail fast instead of queueing while disconnected: a cache must not hold requests up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    // A socket that never connected is destroyed after this long on close (ioredis waits 2 s by default).
    disconnectTimeout: 200,
  });
  // Without a listener, ioredis prints every reconnection failure itself.
  redis.on('error', (error: unknown) => report('connect', error));
  redis.on('ready', () => {
    if (!healthy) log?.info({ event: 'cache.redis_ready' }, 'Redis cache reachable again');
    healthy = true;
  });

  return {
    async get(key) {
      if (closed) return undefined;
      try {
        const value = await redis.get(key);
        return value ?? undefined;
      } catch (error) {
        report('get', error);
        return undefined;
      }
    },
    async set(key, value, ttlMs) {
      if (closed || !Number.isFinite(ttlMs) || ttlMs < 1) return;
      try {
        await redis.set(key, value, 'PX', Math.floor(ttlMs));
      } catch (error) {
        report('set', error);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

function describe(error: unknown): string {
  // ioredis messages name the host and port (never the password) and the failed command.
  return error instanceof Error ? error.message : 'unknown error';
}
