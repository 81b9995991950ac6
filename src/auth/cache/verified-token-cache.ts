import { hash } from 'node:crypto';
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
 * cache holds no bearer credentials). Least recently used entries are evicted first (a `Map`
 * iterates in insertion order; a hit re-inserts). An entry is never served at or after the
 * token's `exp`, nor longer than `maxTtlSec` after it was verified (an `exp` centuries away is
 * verified again like any other), nor once the token is older than `maxTokenAgeSec`.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxTtlMs: number;
  readonly #maxTokenAgeSec: number | undefined;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('cacheMaxEntries must be a non-negative integer');
    const maxTtlSec = options.maxTtlSec ?? DEFAULT_CACHE_MAX_TTL_SEC;
    if (!Number.isFinite(maxTtlSec) || maxTtlSec < 0) throw new TypeError('cacheMaxTtlSec must be a non-negative number');
    const maxTokenAgeSec = options.maxTokenAgeSec;
    if (maxTokenAgeSec !== undefined && (!Number.isFinite(maxTokenAgeSec) || maxTokenAgeSec <= 0)) throw new TypeError('maxTokenAgeSec must be a positive number');
    this.#maxEntries = maxTtlSec === 0 ? 0 : maxEntries;
    this.#maxTtlMs = maxTtlSec * 1000;
    this.#maxTokenAgeSec = maxTokenAgeSec;
  }

  /** The cached principal for `token`, if any and if `now` is before the entry's end. */
  get(token: string, now: Date): UserPrincipal | ClientPrincipal | undefined {
    if (this.#maxEntries === 0) return undefined;
    const key = keyOf(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (now.getTime() >= entry.until) return undefined;
    this.#entries.set(key, entry);
    return entry.principal;
  }

  /**
   * Remembers a verified principal; tokens without `exp`, already expired, or (with a maximum token
   * age) without `iat`, are not cached.
   */
  set(token: string, principal: UserPrincipal | ClientPrincipal, now: Date): void {
    if (this.#maxEntries === 0) return;
    const until = this.#until(principal, now.getTime());
    if (until <= now.getTime()) return;
    const key = keyOf(token);
    this.#entries.delete(key);
    this.#entries.set(key, { principal, until });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Number of cached entries (including lapsed ones not yet looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear();
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
