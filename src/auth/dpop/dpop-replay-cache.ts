import { Redis } from 'ioredis';
import { DpopReplayCacheUnavailableError } from './dpop-errors.js';

/**
 * Remembers DPoP proof identifiers for as long as their proofs could be accepted, so that each is
 * accepted once (RFC 9449 §4.3 step 11, §11.1).
 */
export interface DpopReplayCache {
  /**
   * Records `key` for `ttlSec` seconds, atomically.
   * @param owner The proof key's thumbprint, for a per-key bound (stores without one ignore it).
   * @returns `true` when `key` was not recorded yet (first use), `false` when it was (a replay).
   * @throws {DpopReplayCacheUnavailableError} the store cannot be reached, or cannot remember one
   *   more key (`reason: 'full'`); the caller must fail closed.
   */
  markUsed(key: string, ttlSec: number, owner?: string): Promise<boolean>;
  /** Releases the store's resources (connections). */
  close(): Promise<void>;
}

/** Default bound on remembered proofs in memory. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

/** Default share of {@link MemoryDpopReplayCacheOptions.maxEntries} one proof key may use. */
export const DEFAULT_REPLAY_CACHE_KEY_SHARE = 0.1;

/** Options for {@link MemoryDpopReplayCache}. */
export interface MemoryDpopReplayCacheOptions {
  /** Upper bound on remembered, unexpired keys. Default: 100000. */
  readonly maxEntries?: number;
  /**
   * Upper bound on remembered, unexpired keys of one `owner` (proof key thumbprint), at most
   * `maxEntries`. Default: a tenth of `maxEntries` (10000), rounded up.
   */
  readonly maxEntriesPerKey?: number;
  /** Clock for expiry. Default: `() => new Date()`. */
  readonly currentDate?: () => Date;
}

interface ReplayEntry {
  /** Milliseconds since the epoch. */
  readonly expiry: number;
  readonly owner: string | undefined;
}

/**
 * A replay cache for a single process. Bounded, and failing closed: an unexpired key is never
 * forgotten, so when `maxEntries` unexpired keys are held (or `maxEntriesPerKey` of one proof key)
 * a new key is refused with {@link DpopReplayCacheUnavailableError} (`reason: 'full'`, answered 503)
 * until some expire — at most the proof `iat` window later. Lapsed entries are dropped as new ones
 * arrive. Callers record a proof only after the proof and its access token have passed every other
 * check, so only holders of valid bound tokens and keys can fill it, and the per-key bound makes
 * one key exhaust only its own share. Several replicas need a shared store:
 * {@link RedisDpopReplayCache}.
 */
export class MemoryDpopReplayCache implements DpopReplayCache {
  // Not lru-cache: its bound evicts, and an evicted live key would accept a replay; this one
  // refuses instead ('full'). lru-cache's TTL also serves an entry at its last millisecond and
  // treats a start time of 0 as "no TTL" (an injected clock at 0).
  // Key → expiry and owner. A Map iterates in insertion order, which is close to expiry order.
  readonly #entries = new Map<string, ReplayEntry>();
  readonly #perOwner = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #maxEntriesPerKey: number;
  readonly #now: () => Date;
  // Earliest expiry among the entries a full sweep kept: no entry lapses before it, so a full
  // cache answers "full" without sweeping again (a full cache must not cost a scan per request).
  #nextLapse = -Infinity;

  constructor(options: MemoryDpopReplayCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    const maxEntriesPerKey = options.maxEntriesPerKey ?? Math.ceil(maxEntries * DEFAULT_REPLAY_CACHE_KEY_SHARE);
    if (!Number.isInteger(maxEntriesPerKey) || maxEntriesPerKey < 1 || maxEntriesPerKey > maxEntries) {
      throw new TypeError('maxEntriesPerKey must be a positive integer no larger than maxEntries');
    }
    this.#maxEntries = maxEntries;
    this.#maxEntriesPerKey = maxEntriesPerKey;
    this.#now = options.currentDate ?? (() => new Date());
  }

  async markUsed(key: string, ttlSec: number, owner?: string): Promise<boolean> {
    const now = this.#now().getTime();
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      if (existing.expiry > now) return false;
      this.#delete(key, existing);
    }
    this.#dropLapsedFront(now);
    if (this.#entries.size >= this.#maxEntries) this.#sweep(now);
    if (this.#entries.size >= this.#maxEntries) {
      throw new DpopReplayCacheUnavailableError(`the in-memory DPoP replay cache holds its maximum of ${this.#maxEntries} unexpired proofs`, { reason: 'full' });
    }
    if (owner !== undefined && (this.#perOwner.get(owner) ?? 0) >= this.#maxEntriesPerKey) this.#sweep(now);
    if (owner !== undefined && (this.#perOwner.get(owner) ?? 0) >= this.#maxEntriesPerKey) {
      throw new DpopReplayCacheUnavailableError(`the in-memory DPoP replay cache holds its maximum of ${this.#maxEntriesPerKey} unexpired proofs for one key`, { reason: 'full' });
    }
    const expiry = now + Math.max(ttlSec, 0) * 1000;
    this.#entries.set(key, { expiry, owner });
    this.#nextLapse = Math.min(this.#nextLapse, expiry);
    if (owner !== undefined) this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    return true;
  }

  /** Number of remembered keys (including lapsed ones not yet pruned). */
  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#perOwner.clear();
  }

  /** Drops lapsed entries from the front; a few per call keeps the map from holding stale keys. */
  #dropLapsedFront(now: number): void {
    let dropped = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiry > now || dropped >= 8) break;
      this.#delete(key, entry);
      dropped += 1;
    }
  }

  /** Drops every lapsed entry (insertion order is only close to expiry order), at most once per lapse. */
  #sweep(now: number): void {
    if (now < this.#nextLapse) return;
    let nextLapse = Infinity;
    for (const [key, entry] of this.#entries) {
      if (entry.expiry <= now) this.#delete(key, entry);
      else nextLapse = Math.min(nextLapse, entry.expiry);
    }
    this.#nextLapse = nextLapse;
  }

  #delete(key: string, entry: ReplayEntry): void {
    this.#entries.delete(key);
    if (entry.owner === undefined) return;
    const count = (this.#perOwner.get(entry.owner) ?? 1) - 1;
    if (count > 0) this.#perOwner.set(entry.owner, count);
    else this.#perOwner.delete(entry.owner);
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
    // No per-key bound: Redis evicts by its own maxmemory policy, and volatile keys expire on time.
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
  /** In-memory bound per proof key; see {@link MemoryDpopReplayCache}. Default: a tenth of `maxEntries`. */
  readonly maxEntriesPerKey?: number;
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
    return new MemoryDpopReplayCache({
      ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
      ...(options.maxEntriesPerKey !== undefined ? { maxEntriesPerKey: options.maxEntriesPerKey } : {}),
    });
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
