import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JSONWebKeySet } from 'jose';
import { AuthServiceUnavailableError } from '../../../../src/auth/token-error.js';
import { createTokenVerifier, type TokenVerifierOptions } from '../../../../src/auth/jwt/jwt-verifier.js';
import { accessTokenClaims, createTestKey, keySet, signToken, type TestKey } from '../../../fixtures/tokens.js';

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';
const JWKS_URI = 'https://as.example/jwks';
const METADATA_URI = 'https://as.example/.well-known/oauth-authorization-server';

/** A scriptable stand-in for the authorization server's HTTP endpoints. */
class FakeAuthorizationServer {
  up = true;
  jwks: JSONWebKeySet = { keys: [] };
  readonly calls: string[] = [];

  readonly fetch = (async (input: string | URL | Request): Promise<Response> => {
    const url = String(input);
    this.calls.push(url);
    if (!this.up) throw new TypeError('fetch failed');
    if (url === METADATA_URI) return Response.json({ issuer: ISSUER, jwks_uri: JWKS_URI });
    if (url === JWKS_URI) return Response.json(this.jwks);
    return new Response('not found', { status: 404 });
  }) as typeof fetch;

  count(url: string): number {
    return this.calls.filter((call) => call === url).length;
  }
}

let key: TestKey;
let rotated: TestKey;

beforeAll(async () => {
  key = await createTestKey('ES256', 'k1');
  rotated = await createTestKey('ES256', 'k2');
});

const token = (signingKey: TestKey, kid = signingKey.kid) =>
  signToken(accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now: new Date() }), { key: signingKey, header: { kid } });

function remoteVerifier(as: FakeAuthorizationServer, options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: as.fetch, retryInitialDelayMs: 10, retryMaxDelayMs: 40, ...options });
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('createTokenVerifier with a remote key set', () => {
  it('discovers jwks_uri, loads the keys and verifies', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as);
    await verifier.ready();
    expect(verifier.status()).toEqual({ ready: true });
    await expect(verifier.verify(await token(key))).resolves.toMatchObject({ kind: 'user' });
    expect(as.count(METADATA_URI)).toBe(1);
    verifier.close();
  });

  it('uses a configured jwksUri without discovery', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as, { jwksUri: JWKS_URI });
    await verifier.ready();
    expect(as.calls).toEqual([JWKS_URI]);
    verifier.close();
  });

  it('waits for the first key load when a request arrives during start-up', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as);
    await expect(verifier.verify(await token(key))).resolves.toMatchObject({ subject: 'alice' });
    verifier.close();
  });

  it('does not let tokens with random kids flood the authorization server', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as, { jwksCooldownMs: 60_000 });
    await verifier.ready();
    const before = as.count(JWKS_URI);
    for (let i = 0; i < 20; i += 1) {
      await expect(verifier.verify(await token(key, `random-${i}`))).rejects.toMatchObject({ reason: 'unknown_key' });
    }
    expect(as.count(JWKS_URI) - before).toBe(0);
    verifier.close();
  });

  it('picks up a rotated key once the cooldown has passed', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as, { jwksCooldownMs: 0 });
    await verifier.ready();
    as.jwks = keySet(key, rotated);
    await expect(verifier.verify(await token(rotated))).resolves.toMatchObject({ kind: 'user' });
    verifier.close();
  });

  it('keeps verifying with the last keys while the key set cannot be fetched', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    // cacheMaxAge 0: every verification wants fresh keys.
    const verifier = remoteVerifier(as, { jwksCacheMaxAgeMs: 0, jwksCooldownMs: 60_000 });
    await verifier.ready();
    as.up = false;
    const before = as.calls.length;
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(await token(key))).resolves.toMatchObject({ kind: 'user' });
    // One failed attempt, then the failure cooldown holds further fetches back.
    expect(as.calls.length - before).toBe(1);
    verifier.close();
  });

  it('fails ready() with discovery_failed while the issuer is down, answers 503 at once, and recovers in the background', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    as.up = false;
    const verifier = remoteVerifier(as);

    const failure = await verifier.ready().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthServiceUnavailableError);
    expect(failure).toMatchObject({ reason: 'discovery_failed', status: 503 });
    expect(verifier.status()).toMatchObject({ ready: false, reason: expect.stringContaining('as.example') });
    await expect(verifier.verify(await token(key))).rejects.toMatchObject({ reason: 'discovery_failed' });

    as.up = true;
    await until(() => verifier.status().ready);
    await expect(verifier.verify(await token(key))).resolves.toMatchObject({ kind: 'user' });
    verifier.close();
  });

  it('reports jwks_unavailable when metadata loads but keys do not', async () => {
    const as = new FakeAuthorizationServer();
    const failing = (async (input: string | URL | Request) =>
      String(input) === JWKS_URI ? new Response('oops', { status: 500 }) : as.fetch(input)) as typeof fetch;
    const verifier = remoteVerifier(as, { fetch: failing });
    await expect(verifier.ready()).rejects.toMatchObject({ reason: 'jwks_unavailable' });
    await expect(verifier.verify(await token(key))).rejects.toBeInstanceOf(AuthServiceUnavailableError);
    verifier.close();
  });

  it('still refuses garbage with 401 reasons while the issuer is down', async () => {
    const as = new FakeAuthorizationServer();
    as.up = false;
    const verifier = remoteVerifier(as);
    await verifier.ready().catch(() => undefined);
    await expect(verifier.verify('garbage')).rejects.toMatchObject({ reason: 'malformed' });
    verifier.close();
  });

  it('backs off exponentially and stops retrying once closed', async () => {
    const as = new FakeAuthorizationServer();
    as.up = false;
    const verifier = remoteVerifier(as, { retryInitialDelayMs: 20, retryMaxDelayMs: 1000 });
    await verifier.ready().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 20, 40, 80 ms (±20 %) fit in 200 ms; a fixed 20 ms interval would have made ~10 attempts.
    const attempts = as.count(METADATA_URI);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(6);
    verifier.close();
    const afterClose = as.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(as.calls.length).toBe(afterClose);
  });
});

describe('key set refresh failing after start', () => {
  it('stays ready but degraded while refreshing fails, refetches in the background, and clears once a fetch succeeds', async () => {
    const as = new FakeAuthorizationServer();
    as.jwks = keySet(key);
    const verifier = remoteVerifier(as, { jwksCooldownMs: 20, jwksCacheMaxAgeMs: 20 });
    try {
      await verifier.ready();
      expect(verifier.status()).toEqual({ ready: true });
      as.up = false;
      await new Promise((resolve) => setTimeout(resolve, 30));
      // The cached keys are past their age: this verification tries a refresh, which fails, and still succeeds.
      await expect(verifier.verify(await token(key))).resolves.toMatchObject({ kind: 'user' });
      expect(verifier.status()).toMatchObject({ ready: true, degraded: expect.stringContaining(JWKS_URI) });
      const failedFetches = as.count(JWKS_URI);
      // No traffic from here on: the background refetch alone brings the status back.
      await until(() => as.count(JWKS_URI) > failedFetches);
      as.up = true;
      await until(() => verifier.status().degraded === undefined);
      expect(verifier.status()).toEqual({ ready: true });
    } finally {
      verifier.close();
    }
  });
});
