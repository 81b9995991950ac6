import { hash } from 'node:crypto';
import type { ClientPrincipal, UserPrincipal } from './principal.js';

/** Default bound on cached verified tokens. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

/**
 * Principals of tokens that already passed full verification, keyed by the token's SHA-256 (so the
 * cache holds no bearer credentials). Least recently used entries are evicted first (a `Map`
 * iterates in insertion order; a hit re-inserts). An entry is never served at or after the
 * token's `exp`.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, UserPrincipal | ClientPrincipal>();
  readonly #maxEntries: number;

  /** @param maxEntries Upper bound on entries; 0 disables caching. */
  constructor(maxEntries: number = DEFAULT_CACHE_MAX_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('cacheMaxEntries must be a non-negative integer');
    this.#maxEntries = maxEntries;
  }

  /** The cached principal for `token`, if any and if `now` is before its expiry. */
  get(token: string, now: Date): UserPrincipal | ClientPrincipal | undefined {
    if (this.#maxEntries === 0) return undefined;
    const key = keyOf(token);
    const principal = this.#entries.get(key);
    if (principal === undefined) return undefined;
    this.#entries.delete(key);
    if (!isLive(principal, now)) return undefined;
    this.#entries.set(key, principal);
    return principal;
  }

  /** Remembers a verified principal; tokens without `exp`, or already expired, are not cached. */
  set(token: string, principal: UserPrincipal | ClientPrincipal, now: Date): void {
    if (this.#maxEntries === 0 || !isLive(principal, now)) return;
    const key = keyOf(token);
    this.#entries.delete(key);
    this.#entries.set(key, principal);
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
}

function isLive(principal: UserPrincipal | ClientPrincipal, now: Date): boolean {
  return principal.expiresAt !== undefined && now.getTime() < principal.expiresAt * 1000;
}

function keyOf(token: string): string {
  return hash('sha256', token, 'base64url');
}
