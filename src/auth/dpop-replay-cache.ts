import { Redis } from 'ioredis';
import { DpopReplayCacheUnavailableError } from './dpop-error.js';

/**
 * Remembers DPoP proof identifiers for as long as their proofs could be accepted, so that each is
 * accepted once (RFC 9449 §4.3 step 11, §11.1).
 */
export interface DpopReplayCache {
  /**
   * Records `key` for `ttlSec` seconds, atomically.
   * @returns `true` when `key` was not recorded yet (first use), `false` when it was (a replay).
   * @throws {DpopReplayCacheUnavailableError} the store cannot be reached; the caller must fail closed.
   */
  markUsed(key: string, ttlSec: number): Promise<boolean>;
  /** Releases the store's resources (connections). */
  close(): Promise<void>;
}

/** Default bound on remembered proofs in memory. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

/** Options for {@link MemoryDpopReplayCache}. */
export interface MemoryDpopReplayCacheOptions {
  /** Upper bound on remembered keys. Default: 100000. */
  readonly maxEntries?: number;
  /** Clock for expiry. Default: `() => new Date()`. */
  readonly currentDate?: () => Date;
}

/**
 * A replay cache for a single process. Bounded: lapsed entries are dropped as new ones arrive, and
 * when it is full the oldest entries (insertion order, close to expiry order) make room. Callers record a proof only after the proof and its access token have passed
 * every other check, so only holders of valid tokens and keys can fill it; at the default bound and
 * a 60 s window that is over 800 fresh proofs per second before any live entry is evicted.
 * Several replicas need a shared store: {@link RedisDpopReplayCache}.
 */
export class MemoryDpopReplayCache implements DpopReplayCache {
  // Key → expiry (ms since the epoch). A Map iterates in insertion order, which is close to expiry order.
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => Date;

  constructor(options: MemoryDpopReplayCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
    this.#now = options.currentDate ?? (() => new Date());
  }

  async markUsed(key: string, ttlSec: number): Promise<boolean> {
    const now = this.#now().getTime();
    const expiry = this.#entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.#entries.delete(key);
    this.#prune(now);
    this.#entries.set(key, now + Math.max(ttlSec, 0) * 1000);
    return true;
  }

  /** Number of remembered keys (including lapsed ones not yet pruned). */
  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #prune(now: number): void {
    // Drops lapsed entries from the front (a few per call keeps the map from holding stale keys),
    // then, when still full, the oldest live ones.
    let scanned = 0;
    for (const [key, expiry] of this.#entries) {
      const full = this.#entries.size >= this.#maxEntries;
      if (!full && (expiry > now || scanned >= 8)) break;
      this.#entries.delete(key);
      scanned += 1;
    }
  }
}

/** Default prefix of replay cache keys in Redis (beside the shared cache's `orders-rs:` keys). */
export const DEFAULT_DPOP_KEY_PREFIX = 'orders-rs:dpop-jti:';

/** The part of an ioredis client the Redis replay cache uses. */
export interface RedisReplayClient {
  set(key: string, value: string, secondsToken: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null>;
  quit(): Promise<unknown>;
  /** Closes the connection at once and stops reconnecting. */
  disconnect(): void;
}

/** Options for {@link RedisDpopReplayCache}. */
export interface RedisDpopReplayCacheOptions {
  /** Prefix of every key written. Default: {@link DEFAULT_DPOP_KEY_PREFIX}. */
  readonly keyPrefix?: string;
  /** Whether {@link RedisDpopReplayCache.close} quits the client. Default: false (the client is shared). */
  readonly ownsClient?: boolean;
}

/**
 * A replay cache shared by every replica: `SET key 1 EX ttl NX`, whose answer (`OK` or nil) says
 * atomically whether the key was new. Entries expire by Redis's own clock. Errors (connection
 * refused, timeout) become {@link DpopReplayCacheUnavailableError}: fail closed.
 */
export class RedisDpopReplayCache implements DpopReplayCache {
  readonly #client: RedisReplayClient;
  readonly #prefix: string;
  readonly #ownsClient: boolean;

  constructor(client: RedisReplayClient, options: RedisDpopReplayCacheOptions = {}) {
    this.#client = client;
    this.#prefix = options.keyPrefix ?? DEFAULT_DPOP_KEY_PREFIX;
    this.#ownsClient = options.ownsClient ?? false;
  }

  async markUsed(key: string, ttlSec: number): Promise<boolean> {
    let answer: 'OK' | null;
    try {
      answer = await this.#client.set(`${this.#prefix}${key}`, '1', 'EX', Math.max(1, Math.ceil(ttlSec)), 'NX');
    } catch (cause) {
      throw new DpopReplayCacheUnavailableError('the DPoP replay cache (Redis) is unavailable', { cause });
    }
    return answer === 'OK';
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    // QUIT lets pending replies arrive; disconnect also stops reconnecting to a Redis that is down.
    await Promise.race([this.#client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    this.#client.disconnect();
  }
}

/** Options for {@link createDpopReplayCache}. */
export interface DpopReplayCacheOptions {
  /** `redis://` or `rediss://` URL (e.g. from REDIS_URL). Unset: an in-memory cache for this process. */
  readonly redisUrl?: string | undefined;
  /** In-memory bound; see {@link MemoryDpopReplayCache}. Default: 100000. */
  readonly maxEntries?: number;
  /** Redis key prefix. Default: {@link DEFAULT_DPOP_KEY_PREFIX}. */
  readonly keyPrefix?: string;
  /** Timeout for each Redis command, in milliseconds. Default: 1000. */
  readonly commandTimeoutMs?: number;
  /** Timeout for establishing a Redis connection, in milliseconds. Default: 2000. */
  readonly connectTimeoutMs?: number;
  /** Told about Redis connection errors (for logs); never given a proof or token. */
  readonly onError?: (error: Error) => void;
}

/**
 * The replay cache for the configuration: Redis when `redisUrl` is set (with its own connection,
 * closed by `close()`), otherwise in memory.
 *
 * @throws {TypeError} when `redisUrl` is not a redis:// or rediss:// URL.
 */
export function createDpopReplayCache(options: DpopReplayCacheOptions = {}): DpopReplayCache {
  if (options.redisUrl === undefined || options.redisUrl === '') {
    return new MemoryDpopReplayCache(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {});
  }
  let protocol: string;
  try {
    protocol = new URL(options.redisUrl).protocol;
  } catch {
    throw new TypeError('redisUrl must be a redis:// or rediss:// URL');
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw new TypeError('redisUrl must be a redis:// or rediss:// URL');
  const client = new Redis(options.redisUrl, {
    // A request waits at most for one command timeout, never for reconnection attempts.
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    // How long close() waits for the socket to end before destroying it.
    disconnectTimeout: options.connectTimeoutMs ?? 2000,
  });
  // Without a listener ioredis prints every connection error itself.
  client.on('error', (error: Error) => options.onError?.(error));
  return new RedisDpopReplayCache(client, { ownsClient: true, ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}) });
}
