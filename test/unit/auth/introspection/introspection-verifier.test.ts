import { createHash } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import { createIntrospectionVerifier, type IntrospectionVerifierOptions } from '../../../../src/auth/introspection/introspection-verifier.js';
import { createMemorySharedCache } from '../../../../src/auth/cache/memory-shared-cache.js';
import { compileScopeMap } from '../../../../src/auth/scope-map.js';
import type { SharedCache } from '../../../../src/auth/cache/shared-cache.js';
import { AuthServiceUnavailableError, TokenError } from '../../../../src/auth/token-error.js';
import { reasonOf } from '../../../fixtures/tokens.js';

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';
const ENDPOINT = 'https://as.example/introspect';
const CLIENT = { clientId: 'orders-api', clientSecret: 's3cret:with spaces' };
const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;
const TOKEN = 'opaque-token-2YotnFZFEjr1zCsicMWpAA';

type Answer = Record<string, unknown> | ((body: URLSearchParams) => Response | Promise<Response>);

/** A scriptable introspection endpoint that records every request. */
class FakeIntrospectionEndpoint {
  answer: Answer = { active: false };
  readonly requests: Array<{ url: string; headers: Headers; body: URLSearchParams; redirect: RequestInit['redirect'] }> = [];

  readonly fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const body = new URLSearchParams(String(init?.body ?? ''));
    this.requests.push({ url, headers: new Headers(init?.headers), body, redirect: init?.redirect });
    if (url.endsWith('/.well-known/oauth-authorization-server')) {
      return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, introspection_endpoint: ENDPOINT });
    }
    if (url !== ENDPOINT) return new Response('not found', { status: 404 });
    return typeof this.answer === 'function' ? this.answer(body) : Response.json(this.answer);
  }) as typeof fetch;

  get calls(): number {
    return this.requests.filter((r) => r.url === ENDPOINT).length;
  }
}

const active = (overrides: Record<string, unknown> = {}) => ({
  active: true,
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'alice',
  client_id: 'web-app',
  scope: 'read:profile read:orders',
  exp: NOW_SEC + 300,
  iat: NOW_SEC - 10,
  token_type: 'Bearer',
  ...overrides,
});

function verifierFor(endpoint: FakeIntrospectionEndpoint, overrides: Partial<IntrospectionVerifierOptions> = {}) {
  let now = NOW;
  const cache = overrides.cache ?? createMemorySharedCache({ now: () => now.getTime() });
  const verifier = createIntrospectionVerifier({ issuer: ISSUER, audience: AUDIENCE, endpoint: ENDPOINT, ...CLIENT, fetch: endpoint.fetch, currentDate: () => now, cache, ...overrides });
  return {
    verifier,
    cache,
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}


describe('introspection: the request (RFC 7662 §2.1)', () => {
  it('POSTs the token in a form with token_type_hint, authenticates with client_secret_basic, never follows redirects', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active();
    const { verifier } = verifierFor(endpoint);
    await verifier.verify(TOKEN);
    const [request] = endpoint.requests;
    expect(request!.url).toBe(ENDPOINT);
    expect(request!.url).not.toContain(TOKEN);
    expect(Object.fromEntries(request!.body)).toEqual({ token: TOKEN, token_type_hint: 'access_token' });
    expect(request!.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request!.redirect).toBe('manual');
    // RFC 6749 §2.3.1: each part form-urlencoded, then base64.
    const basic = Buffer.from(request!.headers.get('authorization')!.replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe('orders-api:s3cret%3Awith+spaces');
  });

  it('discovers the endpoint from the issuer metadata when none is configured', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active();
    const { verifier } = verifierFor(endpoint, { endpoint: undefined });
    await verifier.ready();
    expect(verifier.status()).toEqual({ ready: true });
    await expect(verifier.verify(TOKEN)).resolves.toMatchObject({ kind: 'user', subject: 'alice' });
  });

  it('is not ready, and answers 503, when the metadata has no introspection_endpoint', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    const bare = (async (input: string | URL | Request) =>
      String(input).includes('/.well-known/') ? Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` }) : new Response('', { status: 404 })) as typeof fetch;
    const { verifier } = verifierFor(endpoint, { endpoint: undefined, fetch: bare });
    await expect(reasonOf(verifier.ready())).resolves.toBe('discovery_failed');
    expect(verifier.status().ready).toBe(false);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('discovery_failed');
  });
});

describe('introspection: discovery recovers in the background', () => {
  it('becomes ready without any request once the metadata can be fetched', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    let up = false;
    const flaky = ((input: string | URL | Request, init?: RequestInit) => (up ? endpoint.fetch(input, init) : Promise.reject(new TypeError('fetch failed')))) as typeof fetch;
    const { verifier } = verifierFor(endpoint, { endpoint: undefined, fetch: flaky, discoveryRetryMs: 10 });
    await expect(reasonOf(verifier.ready())).resolves.toBe('discovery_failed');
    expect(verifier.status()).toMatchObject({ ready: false, reason: expect.any(String) });
    up = true;
    const deadline = Date.now() + 2000;
    while (!verifier.status().ready && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(verifier.status()).toEqual({ ready: true });
    verifier.close();
  });

  it('keeps retrying in the background when the retry timer fires a little before the wall clock says the delay is over', async () => {
    // Timers run on the monotonic clock in whole milliseconds, the failure is stamped with Date.now():
    // a timer can fire while Date.now() says slightly less than the delay has passed. Simulated here
    // with a wall clock 5 ms ahead while the failure is stamped.
    const endpoint = new FakeIntrospectionEndpoint();
    let up = false;
    const flaky = ((input: string | URL | Request, init?: RequestInit) => (up ? endpoint.fetch(input, init) : Promise.reject(new TypeError('fetch failed')))) as typeof fetch;
    const realNow = Date.now.bind(Date);
    let skewMs = 5;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
    try {
      const { verifier } = verifierFor(endpoint, { endpoint: undefined, fetch: flaky, discoveryRetryMs: 50 });
      await expect(reasonOf(verifier.ready())).resolves.toBe('discovery_failed');
      skewMs = 0;
      up = true;
      const deadline = realNow() + 3000;
      while (!verifier.status().ready && realNow() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(verifier.status()).toEqual({ ready: true });
      verifier.close();
    } finally {
      clock.mockRestore();
    }
  });
});

describe('introspection: active answers become principals', () => {
  it('builds a user principal from sub and client_id, with the granted scopes', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ name: 'Alice' });
    const principal = await verifierFor(endpoint).verifier.verify(TOKEN);
    expect(principal).toMatchObject({ kind: 'user', subject: 'alice', clientId: 'web-app', issuer: ISSUER, audience: [AUDIENCE], expiresAt: NOW_SEC + 300, name: 'Alice' });
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'read:profile']);
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('builds a client principal when sub is the client id or absent', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ sub: undefined, client_id: 'svc' });
    await expect(verifierFor(endpoint).verifier.verify(TOKEN)).resolves.toMatchObject({ kind: 'client', subject: 'svc' });
  });

  it('accepts an answer without iss, and aud as a list containing ours', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ iss: undefined, aud: ['https://other.example', AUDIENCE] });
    await expect(verifierFor(endpoint).verifier.verify(TOKEN)).resolves.toMatchObject({ kind: 'user' });
  });

  it('maps scopes with the configured scope map', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ scope: 'orders:read profile:read' });
    const scopeMap = compileScopeMap({ convention: 'resource:verb' }, ['read:orders', 'read:profile']);
    const principal = await verifierFor(endpoint, { scopeMap }).verifier.verify(TOKEN);
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'read:profile']);
  });
});

describe('introspection: refused answers', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['active: false', { active: false }, 'inactive'],
    ['exp in the past (beyond the leeway)', active({ exp: NOW_SEC - 31 }), 'expired'],
    ['nbf in the future', active({ nbf: NOW_SEC + 120 }), 'not_yet_valid'],
    ['another audience', active({ aud: 'https://other.example' }), 'wrong_audience'],
    ['no audience', active({ aud: undefined }), 'missing_claim'],
    ['another issuer', active({ iss: 'https://evil.example' }), 'wrong_issuer'],
    ['a refresh token', active({ token_type: 'refresh_token' }), 'wrong_type'],
    ['a non-string scope', active({ scope: ['read:orders'] }), 'invalid_claim'],
    ['a non-numeric exp', active({ exp: 'tomorrow' }), 'invalid_claim'],
    ['neither sub nor client_id', active({ sub: undefined, client_id: undefined }), 'missing_claim'],
  ])('%s → %s', async (_name, answer, reason) => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = answer;
    await expect(reasonOf(verifierFor(endpoint).verifier.verify(TOKEN))).resolves.toBe(reason);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['iat a year in the future (no nbf)', active({ iat: NOW_SEC + 365 * 24 * 3600 }), 'issued_in_future'],
    ['a non-numeric iat', active({ iat: 'now' }), 'invalid_claim'],
    ['exp 1e300', active({ exp: 1e300 }), 'invalid_claim'],
  ])('%s → %s', async (_name, answer, reason) => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = answer;
    await expect(reasonOf(verifierFor(endpoint).verifier.verify(TOKEN))).resolves.toBe(reason);
  });

  it('accepts an iat ahead within the leeway and refuses one just beyond', async () => {
    for (const [iat, reason] of [[NOW_SEC + 30, 'accepted'], [NOW_SEC + 31, 'issued_in_future']] as const) {
      const endpoint = new FakeIntrospectionEndpoint();
      endpoint.answer = active({ iat });
      await expect(reasonOf(verifierFor(endpoint, { clockToleranceSec: 30 }).verifier.verify(TOKEN))).resolves.toBe(reason);
    }
  });

  it('maxTokenAgeSec: refuses an answer whose iat is older (beyond the leeway) or missing, also when served from the cache', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    const verify = (answer: Record<string, unknown>) => {
      const fresh = new FakeIntrospectionEndpoint();
      fresh.answer = answer;
      return reasonOf(verifierFor(fresh, { maxTokenAgeSec: 600 }).verifier.verify(TOKEN));
    };
    await expect(verify(active({ iat: NOW_SEC - 630 }))).resolves.toBe('accepted');
    await expect(verify(active({ iat: NOW_SEC - 631 }))).resolves.toBe('too_old');
    await expect(verify(active({ iat: undefined }))).resolves.toBe('missing_claim');

    endpoint.answer = active({ iat: NOW_SEC - 600, exp: NOW_SEC + 3600 });
    const { verifier, advance } = verifierFor(endpoint, { maxTokenAgeSec: 600, cacheTtlSec: 60 });
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('accepted');
    advance(31);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('too_old');
    expect(endpoint.calls).toBe(1);
  });

  it('accepts DPoP and Bearer token types', async () => {
    for (const type of ['DPoP', 'bearer']) {
      const endpoint = new FakeIntrospectionEndpoint();
      endpoint.answer = active({ token_type: type });
      await expect(reasonOf(verifierFor(endpoint).verifier.verify(TOKEN))).resolves.toBe('accepted');
    }
  });

  it('attaches the answer issuer, client id and subject to the error for the log, not the token', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ aud: 'https://other.example' });
    const error = await verifierFor(endpoint).verifier.verify(TOKEN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).logFields()).toEqual({ reason: 'wrong_audience', issuer: ISSUER, clientId: 'web-app', subject: 'alice' });
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(TOKEN);
  });

  it('refuses an oversized token without a request', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    await expect(reasonOf(verifierFor(endpoint).verifier.verify('x'.repeat(9000)))).resolves.toBe('too_large');
    expect(endpoint.calls).toBe(0);
  });
});

describe('introspection: endpoint failures fail closed (503)', () => {
  const failures: Array<[string, Answer | 'unreachable' | 'timeout']> = [
    ['unreachable', 'unreachable'],
    ['timeout', 'timeout'],
    ['HTTP 500', () => new Response('oops', { status: 500 })],
    ['HTTP 503', () => new Response('', { status: 503 })],
    ['HTTP 401 (our credentials refused)', () => Response.json({ error: 'invalid_client' }, { status: 401 })],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } })],
    ['garbage', () => new Response('<html>maintenance</html>', { status: 200 })],
    ['JSON without active', () => Response.json({ sub: 'alice', aud: AUDIENCE })],
    ['active not a boolean', () => Response.json({ active: 'true', sub: 'alice', aud: AUDIENCE })],
    ['a JSON array', () => Response.json([{ active: true }])],
  ];

  it.each(failures)('%s → introspection_unavailable, never anonymous, never valid', async (_name, answer) => {
    const endpoint = new FakeIntrospectionEndpoint();
    let fetchImpl = endpoint.fetch;
    if (answer === 'unreachable') fetchImpl = (async () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))) as typeof fetch;
    else if (answer === 'timeout') {
      fetchImpl = ((_input: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch;
    } else endpoint.answer = answer;
    const { verifier } = verifierFor(endpoint, { fetch: fetchImpl, timeoutMs: 50 });
    const error = await verifier.verify(TOKEN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'introspection_unavailable', status: 503 });
    const logged = `${(error as Error).message} ${String((error as Error).cause)}`;
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(CLIENT.clientSecret);
  });

  it('does not cache a failure: the next request asks again and can succeed', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = () => new Response('', { status: 502 });
    const { verifier } = verifierFor(endpoint);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('introspection_unavailable');
    endpoint.answer = active();
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('accepted');
    expect(endpoint.calls).toBe(2);
  });
});

describe('introspection: caching', () => {
  it('caches an active answer for the configured TTL', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ exp: NOW_SEC + 3600 });
    const { verifier, advance } = verifierFor(endpoint, { cacheTtlSec: 60 });
    await verifier.verify(TOKEN);
    advance(59);
    await verifier.verify(TOKEN);
    expect(endpoint.calls).toBe(1);
    advance(2);
    await verifier.verify(TOKEN);
    expect(endpoint.calls).toBe(2);
  });

  it("never caches past the token's exp", async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ exp: NOW_SEC + 5 });
    const { verifier, advance } = verifierFor(endpoint, { cacheTtlSec: 60, clockToleranceSec: 0 });
    await verifier.verify(TOKEN);
    advance(4);
    await verifier.verify(TOKEN);
    expect(endpoint.calls).toBe(1);
    advance(2);
    endpoint.answer = { active: false };
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('inactive');
    expect(endpoint.calls).toBe(2);
  });

  it('caches an inactive answer briefly (10 s by default)', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = { active: false };
    const { verifier, advance } = verifierFor(endpoint);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('inactive');
    advance(9);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('inactive');
    expect(endpoint.calls).toBe(1);
    advance(2);
    endpoint.answer = active({ exp: NOW_SEC + 3600 });
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('accepted');
    expect(endpoint.calls).toBe(2);
  });

  it('re-checks a cached answer against the clock (exp is not trusted from the cache blindly)', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ exp: NOW_SEC + 100 });
    const { verifier, advance } = verifierFor(endpoint, { cacheTtlSec: 3600, clockToleranceSec: 0, cache: createMemorySharedCache({ now: () => 0 }) });
    await verifier.verify(TOKEN);
    advance(101);
    await expect(reasonOf(verifier.verify(TOKEN))).resolves.toBe('expired');
  });

  it('makes one request for concurrent verifications of one token (single flight)', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    endpoint.answer = async () => {
      await gate;
      return Response.json(active());
    };
    const { verifier } = verifierFor(endpoint);
    const all = Promise.all(Array.from({ length: 20 }, () => verifier.verify(TOKEN)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    const principals = await all;
    expect(principals.every((p) => p.subject === 'alice')).toBe(true);
    expect(endpoint.calls).toBe(1);
  });

  it('keys the cache by the SHA-256 of the token and stores only the checked members', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active({ internal_note: 'do not store', password_hint: 'x' });
    const stored = new Map<string, { value: string; ttlMs: number }>();
    const cache: SharedCache = {
      get: async (key) => stored.get(key)?.value,
      set: async (key, value, ttlMs) => void stored.set(key, { value, ttlMs }),
      close: async () => undefined,
    };
    await verifierFor(endpoint, { cache }).verifier.verify(TOKEN);
    const [key, entry] = [...stored][0]!;
    expect(key).toBe(`introspection:${createHash('sha256').update(TOKEN).digest('base64url')}`);
    expect(key).not.toContain(TOKEN);
    expect(entry!.value).not.toContain(TOKEN);
    expect(entry!.value).not.toContain(CLIENT.clientSecret);
    expect(entry!.value).not.toContain('do not store');
    expect(entry!.ttlMs).toBe(60_000);
  });

  it('ignores a cache entry it did not write (integrity check), and asks the endpoint', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = { active: false };
    const key = `introspection:${createHash('sha256').update(TOKEN).digest('base64url')}`;
    const forged = JSON.stringify(active({ scope: 'admin:orders' }));
    const cache: SharedCache = {
      get: async (k) => (k === key ? `AAAA.${forged}` : undefined),
      set: async () => undefined,
      close: async () => undefined,
    };
    await expect(reasonOf(verifierFor(endpoint, { cache }).verifier.verify(TOKEN))).resolves.toBe('inactive');
    expect(endpoint.calls).toBe(1);
  });

  it('treats a failing cache as a miss: asks the endpoint, never accepts on its own', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = { active: false };
    const broken: SharedCache = {
      get: async () => Promise.reject(new Error('READONLY')),
      set: async () => Promise.reject(new Error('READONLY')),
      close: async () => undefined,
    };
    await expect(reasonOf(verifierFor(endpoint, { cache: broken }).verifier.verify(TOKEN))).resolves.toBe('inactive');
    endpoint.answer = active();
    await expect(reasonOf(verifierFor(endpoint, { cache: broken }).verifier.verify(TOKEN))).resolves.toBe('accepted');
  });

  it('with a TTL of 0 asks every time', async () => {
    const endpoint = new FakeIntrospectionEndpoint();
    endpoint.answer = active();
    const { verifier } = verifierFor(endpoint, { cacheTtlSec: 0 });
    await verifier.verify(TOKEN);
    await verifier.verify(TOKEN);
    expect(endpoint.calls).toBe(2);
  });
});
