import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ClientPrincipal, UserPrincipal } from '../principal.js';

/** Default bound on cached verified tokens. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

/** Default upper bound on how long a verified token is remembered, in seconds, whatever its `exp`. */
export const DEFAULT_CACHE_MAX_TTL_SEC = 300;

/** Options for {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Upper bound on entries; 0 disables caching. Default: 10000. */
  readonly maxEntries?: number;
  /** Longest time an entry is served, in seconds, however far away `exp` is; 0 disables caching. Default: 300. */
  readonly maxTtlSec?: number;
  /**
   * The verifiers' maximum token age, in seconds: an entry is not served once its `iat` is that
   * old, and a principal without `issuedAt` is not cached. Default: none.
   */
  readonly maxTokenAgeSec?: number | undefined;
}

interface Entry {
  readonly principal: UserPrincipal | ClientPrincipal;
  /** Milliseconds since the epoch; the entry is served strictly before it. */
  readonly until: number;
}

/**
 * Principals of tokens that already passed full verification, keyed by the token's SHA-256 (so the
 * cache holds no bearer credentials). Least recently used entries are evicted first. An entry is never served at or after the
 * token's `exp`, nor longer than `maxTtlSec` after it was verified (an `exp` centuries away is
 * verified again like any other), nor once the token is older than `maxTokenAgeSec`.
 */
export class VerifiedTokenCache {
  // Each entry's end is kept in it and compared with the caller's `now` (served strictly before).
  readonly #entries: LRUCache<string, Entry> | undefined;
  readonly #maxTtlMs: number;
  readonly #maxTokenAgeSec: number | undefined;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('cacheMaxEntries must be a non-negative integer');
    const maxTtlSec = options.maxTtlSec ?? DEFAULT_CACHE_MAX_TTL_SEC;
    if (!Number.isFinite(maxTtlSec) || maxTtlSec < 0) throw new TypeError('cacheMaxTtlSec must be a non-negative number');
    const maxTokenAgeSec = options.maxTokenAgeSec;
    if (maxTokenAgeSec !== undefined && (!Number.isFinite(maxTokenAgeSec) || maxTokenAgeSec <= 0)) throw new TypeError('maxTokenAgeSec must be a positive number');
    this.#entries = maxTtlSec === 0 || maxEntries === 0 ? undefined : new LRUCache({ max: maxEntries });
    this.#maxTtlMs = maxTtlSec * 1000;
    this.#maxTokenAgeSec = maxTokenAgeSec;
  }

  /** The cached principal for `token`, if any and if `now` is before the entry's end. */
  get(token: string, now: Date): UserPrincipal | ClientPrincipal | undefined {
    return this.getByKey(this.keyOf(token), now);
  }

  /**
   * The key a token is cached under (a SHA-256 of it, so that no token is kept in memory), or
   * undefined when the cache is disabled: computed once by a caller that looks a token up and
   * then stores its principal ({@link getByKey}, {@link setByKey}).
   */
  keyOf(token: string): string | undefined {
    return this.#entries === undefined ? undefined : keyOf(token);
  }

  /** {@link get} by the key {@link keyOf} gave. */
  getByKey(key: string | undefined, now: Date): UserPrincipal | ClientPrincipal | undefined {
    if (this.#entries === undefined || key === undefined) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now.getTime() < entry.until) return entry.principal;
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * Remembers a verified principal; tokens without `exp`, already expired, or (with a maximum token
   * age) without `iat`, are not cached.
   */
  set(token: string, principal: UserPrincipal | ClientPrincipal, now: Date): void {
    this.setByKey(this.keyOf(token), principal, now);
  }

  /** {@link set} by the key {@link keyOf} gave. */
  setByKey(key: string | undefined, principal: UserPrincipal | ClientPrincipal, now: Date): void {
    if (this.#entries === undefined || key === undefined) return;
    const until = this.#until(principal, now.getTime());
    if (until <= now.getTime()) return;
    this.#entries.set(key, { principal, until });
  }

  /** Number of cached entries (including lapsed ones not yet looked up). */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries?.clear();
  }

  /** When an entry for `principal` verified at `nowMs` stops being served; at most `nowMs` means never cached. */
  #until(principal: UserPrincipal | ClientPrincipal, nowMs: number): number {
    if (principal.expiresAt === undefined) return nowMs;
    let until = Math.min(principal.expiresAt * 1000, nowMs + this.#maxTtlMs);
    if (this.#maxTokenAgeSec !== undefined) {
      if (principal.issuedAt === undefined) return nowMs;
      until = Math.min(until, (principal.issuedAt + this.#maxTokenAgeSec) * 1000);
    }
    // NaN (a non-finite date slipped through) compares false everywhere: never cached.
    return Number.isFinite(until) ? until : nowMs;
  }
}

function keyOf(token: string): string {
  return hash('sha256', token, 'base64url');
}
