import { MAX_TOKEN_LENGTH } from '../token-limits.js';
import { TokenError, withTokenContext } from '../token-error.js';
import type { IssuerStatus, TokenVerifier } from '../token-verifier.js';
import { peekToken, unverifiedContext } from '../unverified-token.js';
import { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_MAX_TTL_SEC, VerifiedTokenCache } from '../cache/verified-token-cache.js';

/** One authorization server whose tokens are accepted, with the verifiers for them. */
export interface TrustedIssuer {
  /** Issuer identifier, compared exactly with a JWT's `iss`. */
  readonly issuer: string;
  /** Verifies this issuer's JWT access tokens locally. Required unless `introspectAll`. */
  readonly jwt?: TokenVerifier;
  /**
   * Asks this issuer's introspection endpoint (RFC 7662) about tokens that are not JWTs. At most
   * one issuer may have one: an opaque token does not say where it comes from, and it is sent to
   * no authorization server but its own.
   */
  readonly introspection?: TokenVerifier;
  /** Introspect this issuer's JWTs too instead of verifying them locally. Default: false. */
  readonly introspectAll?: boolean;
}

export interface IssuerRouterOptions {
  /**
   * Bound on remembered principals of JWTs that passed their issuer's verification; a repeat is
   * answered before the token is even decoded, until its `exp`. Introspection results are not
   * kept here (they have their own cache and lifetime). 0 disables it. Default: 10000.
   */
  readonly cacheMaxEntries?: number;
  /** Longest time a principal is remembered, in seconds, however far away its `exp`; 0 disables. Default: 300. */
  readonly cacheMaxTtlSec?: number;
  /**
   * The issuers' maximum token age, in seconds (as given to their verifiers): a principal is not
   * remembered once its `iat` is that old, nor at all without `iat`. Default: none.
   */
  readonly maxTokenAgeSec?: number | undefined;
  /** Clock for the cache. Default: `() => new Date()`. */
  readonly now?: () => Date;
}

/**
 * One {@link TokenVerifier} for several trusted issuers. A JWT goes to the verifier of the issuer
 * its (unverified) `iss` names — an `iss` no issuer has is refused as `wrong_issuer` before any
 * key lookup, signature check or request — and an opaque token to the one issuer with an
 * introspection endpoint (`malformed` when there is none). A {@link TokenError} leaving here
 * carries the token's unverified issuer, client id and subject for the rejection's log line.
 *
 * @throws {TypeError} no issuers, an issuer listed twice, more than one introspecting issuer, or
 *   an issuer with nothing to verify its tokens with.
 */
export function createIssuerRouter(issuers: readonly TrustedIssuer[], options: IssuerRouterOptions = {}): TokenVerifier {
  if (issuers.length === 0) throw new TypeError('at least one trusted issuer is required');
  const byIssuer = new Map<string, TrustedIssuer>();
  for (const entry of issuers) {
    if (byIssuer.has(entry.issuer)) throw new TypeError(`issuer ${entry.issuer} is listed twice`);
    if (entry.jwt === undefined && (entry.introspection === undefined || !entry.introspectAll)) {
      throw new TypeError(`issuer ${entry.issuer} needs a JWT verifier unless all its tokens are introspected`);
    }
    byIssuer.set(entry.issuer, entry);
  }
  const introspecting = issuers.filter((entry) => entry.introspection !== undefined);
  if (introspecting.length > 1) throw new TypeError('at most one issuer may introspect tokens');
  const opaque = introspecting[0];
  const verified = new VerifiedTokenCache({
    maxEntries: options.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
    maxTtlSec: options.cacheMaxTtlSec ?? DEFAULT_CACHE_MAX_TTL_SEC,
    maxTokenAgeSec: options.maxTokenAgeSec,
  });
  const now = options.now ?? (() => new Date());

  const verifiersOf = (entry: TrustedIssuer): TokenVerifier[] => [entry.jwt, entry.introspection].filter((v): v is TokenVerifier => v !== undefined);

  const statusOf = (entry: TrustedIssuer): IssuerStatus => {
    const reasons: string[] = [];
    const jwt = entry.jwt?.status();
    if (jwt !== undefined && !jwt.ready) reasons.push(`signing keys not loaded${jwt.reason ? `: ${jwt.reason}` : ''}`);
    const introspection = entry.introspection?.status();
    if (introspection !== undefined && !introspection.ready) reasons.push(`introspection endpoint unknown${introspection.reason ? `: ${introspection.reason}` : ''}`);
    if (reasons.length > 0) return { issuer: entry.issuer, ready: false, reason: reasons.join('; ') };
    const degraded = [jwt?.degraded, introspection?.degraded].filter((d): d is string => d !== undefined);
    return degraded.length === 0 ? { issuer: entry.issuer, ready: true } : { issuer: entry.issuer, ready: true, degraded: degraded.join('; ') };
  };

  return {
    async verify(token) {
      if (typeof token !== 'string') throw new TokenError('malformed');
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('too_large');
      const key = verified.keyOf(token); // one SHA-256 for the lookup and, on a miss, the store
      const hit = verified.getByKey(key, now());
      if (hit !== undefined) return hit;
      const peeked = peekToken(token);
      if (peeked.kind === 'opaque') {
        if (opaque === undefined) throw new TokenError('malformed');
        try {
          return await opaque.introspection!.verify(token);
        } catch (error) {
          throw withTokenContext(error, { issuer: opaque.issuer });
        }
      }

      const context = unverifiedContext(peeked.payload);
      if (peeked.payload === undefined) throw new TokenError('malformed');
      const iss = peeked.payload['iss'];
      if (iss === undefined) throw new TokenError('missing_claim', context);
      if (typeof iss !== 'string') throw new TokenError('invalid_claim', context);
      const entry = byIssuer.get(iss);
      if (entry === undefined) throw new TokenError('wrong_issuer', context);
      try {
        if (entry.introspectAll && entry.introspection !== undefined) return await entry.introspection.verify(token);
        const principal = await entry.jwt!.verify(token);
        verified.setByKey(key, principal, now());
        return principal;
      } catch (error) {
        throw withTokenContext(error, context);
      }
    },
    async ready() {
      const results = await Promise.allSettled(issuers.flatMap(verifiersOf).map((verifier) => verifier.ready()));
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    },
    status() {
      const statuses = issuers.map(statusOf);
      const waiting = statuses.filter((status) => !status.ready);
      if (waiting.length === 0) return { ready: true, issuers: statuses };
      return { ready: false, reason: waiting.map((status) => `${status.issuer}: ${status.reason}`).join('; '), issuers: statuses };
    },
    close() {
      verified.clear();
      for (const verifier of issuers.flatMap(verifiersOf)) verifier.close();
    },
  };
}
