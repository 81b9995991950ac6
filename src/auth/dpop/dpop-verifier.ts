import { createHash } from 'node:crypto';
import { DpopBindingError, DpopProofError, DpopReplayCacheUnavailableError } from './dpop-errors.js';
import { checkAlgorithms, DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_IAT_WINDOW_SEC, verifyDpopProof, type VerifiedDpopProof } from './dpop-proof.js';
import { type DpopReplayCache, MemoryDpopReplayCache } from './dpop-replay-cache.js';
import { checkNonNegative } from '../../lib/option-checks.js';

/** Options for {@link createDpopVerifier}. */
export interface DpopVerifierOptions {
  /**
   * Base URLs clients use to reach this server: scheme, host, port and any path prefix a proxy
   * strips (e.g. the configured public URL). A proof's `htu` must equal one of them followed by the
   * request path. More can be added with {@link DpopVerifier.addBaseUrl} (the listening address,
   * known only after listen). Never derived from request headers such as Host: a proof made for
   * another server must not be accepted here.
   */
  readonly baseUrls: readonly string[];
  /** Accepted proof algorithms, asymmetric only; also advertised in challenges (`algs`). Default: ES256 … Ed25519. */
  readonly algorithms?: readonly string[];
  /** Accepted distance between a proof's `iat` and now, in seconds, either direction. Default: 60. */
  readonly iatWindowSec?: number;
  /** Where used proofs are remembered. Default: a {@link MemoryDpopReplayCache} on the same clock. */
  readonly replayCache?: DpopReplayCache;
  /** Clock for `iat` and the default replay cache. Default: `() => new Date()`. */
  readonly currentDate?: () => Date;
}

/** A request presented with the DPoP scheme (RFC 9449 §7.1). */
export interface DpopRequest {
  /** The single `DPoP` header's value. */
  readonly proof: string;
  /** The access token from `Authorization: DPoP <token>`. */
  readonly accessToken: string;
  /** The HTTP method. */
  readonly method: string;
  /** The request-target as received, e.g. `/graphql?op=x`; query and fragment are ignored. */
  readonly url: string;
}

/** Verifies DPoP proofs for one resource server (RFC 9449 §4.3, §7.1). */
export interface DpopVerifier {
  /** Accepted proof algorithms, for the `algs` challenge parameter. */
  readonly algorithms: readonly string[];
  /**
   * Accepts `htu` values under another base URL from now on (the server's own URL once listening).
   * @throws {TypeError} when `url` is not an absolute http(s) URL without query, fragment or credentials.
   */
  addBaseUrl(url: string): void;
  /**
   * The stateless checks (§4.3 steps 2–9, the `iat` window and `ath`). Run before the access token
   * is verified, so a bad proof costs no key lookup.
   * @throws {DpopProofError}
   */
  verifyProof(request: DpopRequest): Promise<VerifiedDpopProof>;
  /**
   * After the access token is verified: its `cnf.jkt` must be the proof key's thumbprint (§4.3 step
   * 12, §6.1), then the proof's `jti` is recorded and must be new (§4.3 step 11). Recording last
   * means only complete, valid requests use replay cache entries.
   * @param confirmationJkt The verified token's `cnf.jkt`.
   * @throws {DpopBindingError} `not_bound` when the token has no `cnf.jkt`.
   * @throws {DpopProofError} `key_mismatch` or `replayed`.
   * @throws {DpopReplayCacheUnavailableError} the replay cache cannot be reached (fail closed).
   */
  confirm(proof: VerifiedDpopProof, confirmationJkt: string | undefined): Promise<void>;
  /** Closes the replay cache. */
  close(): Promise<void>;
}

/**
 * Creates a DPoP verifier.
 * @throws {TypeError} on invalid options (no base URL, a symmetric algorithm, a negative window).
 */
export function createDpopVerifier(options: DpopVerifierOptions): DpopVerifier {
  const algorithms = Object.freeze([...checkAlgorithms(options.algorithms ?? DEFAULT_DPOP_ALGORITHMS)]);
  const iatWindowSec = options.iatWindowSec ?? DEFAULT_DPOP_IAT_WINDOW_SEC;
  checkNonNegative({ iatWindowSec });
  if (options.baseUrls.length === 0) throw new TypeError('baseUrls must name at least one URL');
  const baseUrls = new Set(options.baseUrls.map(baseUrl));
  const now = options.currentDate ?? (() => new Date());
  const replayCache = options.replayCache ?? new MemoryDpopReplayCache({ currentDate: now });

  return {
    algorithms,
    addBaseUrl(url) {
      baseUrls.add(baseUrl(url));
    },
    verifyProof(request) {
      const path = requestPath(request.url);
      return verifyDpopProof(
        request.proof,
        { method: request.method, urls: [...baseUrls].map((base) => `${base}${path}`), accessToken: request.accessToken },
        { algorithms, iatWindowSec, currentDate: now() },
      );
    },
    async confirm(proof, confirmationJkt) {
      if (confirmationJkt === undefined) throw new DpopBindingError('not_bound');
      if (proof.jkt !== confirmationJkt) throw new DpopProofError('key_mismatch');
      // Per key (RFC 9449 §11.1), hashed: bounded key size, and one client's jti cannot collide with another's.
      const key = createHash('sha256').update(`${proof.jkt}.${proof.jti}`).digest('base64url');
      const ttlSec = Math.max(1, Math.ceil(proof.acceptableUntil - now().getTime() / 1000));
      let first: boolean;
      try {
        first = await replayCache.markUsed(key, ttlSec, proof.jkt);
      } catch (error) {
        if (error instanceof DpopReplayCacheUnavailableError) throw error;
        throw new DpopReplayCacheUnavailableError('the DPoP replay cache failed', { cause: error });
      }
      if (!first) throw new DpopProofError('replayed');
    },
    close: () => replayCache.close(),
  };
}

function baseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('a DPoP base URL must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('a DPoP base URL must be an absolute http(s) URL');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError('a DPoP base URL must not contain a query, a fragment or credentials');
  }
  return url.href.replace(/\/+$/, '');
}

/** The path of a request-target (origin-form or absolute-form, RFC 9112 §3.2), without query and fragment. */
function requestPath(target: string): string {
  const path = target.split(/[?#]/, 1)[0] ?? '';
  if (path.startsWith('/')) return path;
  try {
    return new URL(target).pathname;
  } catch {
    return '/';
  }
}
