import { beforeAll, describe, expect, it } from '@jest/globals';
import { createIssuerRouter, type TrustedIssuer } from '../../../../src/auth/issuers/issuer-router.js';
import type { ClientPrincipal, UserPrincipal } from '../../../../src/auth/principal.js';
import { AuthServiceUnavailableError, TokenError } from '../../../../src/auth/token-error.js';
import { createTokenVerifier } from '../../../../src/auth/jwt/jwt-verifier.js';
import type { TokenVerifier, TokenVerifierStatus } from '../../../../src/auth/token-verifier.js';
import { peekToken } from '../../../../src/auth/unverified-token.js';
import { accessTokenClaims, createTestKey, keySet, signToken, unsignedToken, type TestKey } from '../../../fixtures/tokens.js';

const A = 'https://a.example';
const B = 'https://b.example/tenant';
const AUDIENCE = 'https://api.example/graphql';

/** A verifier that records what it was asked and answers as scripted. */
function fakeVerifier(name: string, options: { status?: TokenVerifierStatus; fail?: unknown; expiresAt?: number; issuedAt?: number } = {}): TokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async verify(token) {
      calls.push(token);
      if (options.fail !== undefined) throw options.fail;
      return Object.freeze({ kind: 'client', subject: name, issuer: name, clientId: name, scopes: new Set<string>(), audience: [], expiresAt: options.expiresAt, tokenId: undefined, acr: undefined, authTime: undefined, name: undefined, ...(options.issuedAt !== undefined ? { issuedAt: options.issuedAt } : {}) }) as ClientPrincipal;
    },
    async ready() {
      if (options.status && !options.status.ready) throw new AuthServiceUnavailableError('jwks_unavailable', options.status.reason ?? 'down');
    },
    status: () => options.status ?? { ready: true },
    close: () => undefined,
  };
}

const jwtFrom = (iss: unknown, extra: Record<string, unknown> = {}) => unsignedToken({ alg: 'RS256', typ: 'at+jwt' }, { iss, sub: 'mallory', client_id: 'evil-app', ...extra }, 'c2ln');

async function caught(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.catch((e: unknown) => e);
  if (!(error instanceof TokenError)) throw new Error(`expected a TokenError, got ${String(error)}`);
  return error;
}

describe('peekToken', () => {
  it.each([
    ['a compact JWS', 'jwt', unsignedToken({ alg: 'RS256' }, { iss: A }, 'c2ln')],
    ['an opaque reference', 'opaque', '2YotnFZFEjr1zCsicMWpAA'],
    ['three parts whose header is not JSON', 'opaque', 'abc.def.ghi'],
    ['a JWE (five parts)', 'opaque', 'a.b.c.d.e'],
    ['a header without alg', 'opaque', unsignedToken({ typ: 'at+jwt' }, { iss: A }, 'c2ln')],
  ])('%s is %s', (_name, kind, token) => {
    expect(peekToken(token).kind).toBe(kind);
  });
});

describe('createIssuerRouter: routing', () => {
  it("sends a JWT to its issuer's verifier by unverified iss", async () => {
    const a = fakeVerifier(A);
    const b = fakeVerifier(B);
    const router = createIssuerRouter([{ issuer: A, jwt: a }, { issuer: B, jwt: b }]);
    await expect(router.verify(jwtFrom(B))).resolves.toMatchObject({ issuer: B });
    await expect(router.verify(jwtFrom(A))).resolves.toMatchObject({ issuer: A });
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
  });

  it('refuses an unknown iss as wrong_issuer without calling any verifier, with the unverified sender for the log', async () => {
    const a = fakeVerifier(A);
    const introspection = fakeVerifier('introspection');
    const router = createIssuerRouter([{ issuer: A, jwt: a, introspection }]);
    const token = jwtFrom('https://evil.example');
    const error = await caught(router.verify(token));
    expect(error.logFields()).toEqual({ reason: 'wrong_issuer', issuer: 'https://evil.example', clientId: 'evil-app', subject: 'mallory' });
    expect(a.calls).toEqual([]);
    expect(introspection.calls).toEqual([]);
    expect(JSON.stringify(error.logFields()) + error.message).not.toContain(token);
  });

  it('compares iss exactly (no trailing-slash or case folding)', async () => {
    const router = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }]);
    for (const iss of [`${A}/`, A.toUpperCase(), `${A}.evil`]) await expect(caught(router.verify(jwtFrom(iss)))).resolves.toMatchObject({ reason: 'wrong_issuer' });
  });

  it('refuses a JWT without iss as missing_claim, and a non-string iss as invalid_claim', async () => {
    const router = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }]);
    await expect(caught(router.verify(jwtFrom(undefined)))).resolves.toMatchObject({ reason: 'missing_claim', subject: 'mallory' });
    await expect(caught(router.verify(jwtFrom(['x'])))).resolves.toMatchObject({ reason: 'invalid_claim' });
  });

  it('sends opaque tokens to the introspecting issuer, and refuses them as malformed when there is none', async () => {
    const introspection = fakeVerifier('introspection');
    const withIntrospection = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }, { issuer: B, jwt: fakeVerifier(B), introspection }]);
    await expect(withIntrospection.verify('opaque-token')).resolves.toMatchObject({ issuer: 'introspection' });
    expect(introspection.calls).toEqual(['opaque-token']);
    const jwtOnly = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }]);
    await expect(caught(jwtOnly.verify('opaque-token'))).resolves.toMatchObject({ reason: 'malformed' });
  });

  it("with introspectAll, sends that issuer's JWTs to introspection too, and other issuers' JWTs to their verifiers", async () => {
    const introspection = fakeVerifier('introspection');
    const b = fakeVerifier(B);
    const router = createIssuerRouter([{ issuer: A, introspection, introspectAll: true }, { issuer: B, jwt: b }]);
    await expect(router.verify(jwtFrom(A))).resolves.toMatchObject({ issuer: 'introspection' });
    await expect(router.verify(jwtFrom(B))).resolves.toMatchObject({ issuer: B });
    expect(introspection.calls).toHaveLength(1);
  });

  it("adds the token's unverified issuer, client id and subject to a verifier's TokenError", async () => {
    const router = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A, { fail: new TokenError('bad_signature') }) }]);
    const error = await caught(router.verify(jwtFrom(A)));
    expect(error.logFields()).toEqual({ reason: 'bad_signature', issuer: A, clientId: 'evil-app', subject: 'mallory' });
  });

  it('passes AuthServiceUnavailableError through (503, not 401)', async () => {
    const router = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A, { fail: new AuthServiceUnavailableError('jwks_unavailable', 'down') }) }]);
    await expect(router.verify(jwtFrom(A))).rejects.toBeInstanceOf(AuthServiceUnavailableError);
  });

  it('refuses an oversized token before decoding it', async () => {
    const router = createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }]);
    await expect(caught(router.verify('a'.repeat(9000)))).resolves.toMatchObject({ reason: 'too_large' });
  });
});

describe('createIssuerRouter: readiness', () => {
  it('reports each issuer, and is ready only when all are', async () => {
    const router = createIssuerRouter([
      { issuer: A, jwt: fakeVerifier(A) },
      { issuer: B, jwt: fakeVerifier(B, { status: { ready: false, reason: 'jwks down' } }) },
    ]);
    const status = router.status();
    expect(status.ready).toBe(false);
    expect(status.issuers).toEqual([
      { issuer: A, ready: true },
      { issuer: B, ready: false, reason: expect.stringContaining('jwks down') },
    ]);
    await expect(router.ready()).rejects.toBeInstanceOf(AuthServiceUnavailableError);
  });

  it('refuses configurations it cannot route', () => {
    expect(() => createIssuerRouter([])).toThrow(TypeError);
    expect(() => createIssuerRouter([{ issuer: A, jwt: fakeVerifier(A) }, { issuer: A, jwt: fakeVerifier(A) }])).toThrow(TypeError);
    expect(() => createIssuerRouter([{ issuer: A, introspection: fakeVerifier(A) }, { issuer: B, introspection: fakeVerifier(B) }])).toThrow(TypeError);
    expect(() => createIssuerRouter([{ issuer: A }])).toThrow(TypeError);
  });
});

describe('createIssuerRouter with real JWT verifiers', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  let issuers: TrustedIssuer[];

  beforeAll(async () => {
    keyA = await createTestKey('ES256', 'a');
    keyB = await createTestKey('RS256', 'b');
    issuers = [
      { issuer: A, jwt: createTokenVerifier({ issuer: A, audience: AUDIENCE, keys: keySet(keyA) }) },
      { issuer: B, jwt: createTokenVerifier({ issuer: B, audience: AUDIENCE, keys: keySet(keyB) }) },
    ];
  });

  it('verifies each issuer with its own keys, and never with the other one', async () => {
    const router = createIssuerRouter(issuers);
    const now = new Date();
    const fromA = await signToken(accessTokenClaims({ issuer: A, audience: AUDIENCE, now }), { key: keyA });
    const fromB = await signToken(accessTokenClaims({ issuer: B, audience: AUDIENCE, now }), { key: keyB });
    await expect(router.verify(fromA)).resolves.toMatchObject({ issuer: A } satisfies Partial<UserPrincipal>);
    await expect(router.verify(fromB)).resolves.toMatchObject({ issuer: B });
    // Signed by B's key but claiming to be A: A's keys do not have it.
    const mixed = await signToken(accessTokenClaims({ issuer: A, audience: AUDIENCE, now }), { key: keyB });
    await expect(caught(router.verify(mixed))).resolves.toMatchObject({ reason: 'unknown_key', issuer: A });
  });
});

describe('createIssuerRouter: verified tokens remembered', () => {
  const T0 = Date.parse('2026-05-01T10:00:00Z');
  const exp = T0 / 1000 + 60;

  it('answers a repeated JWT without decoding or verifying it again, until its exp', async () => {
    let clock = T0;
    const a = fakeVerifier(A, { expiresAt: exp });
    const router = createIssuerRouter([{ issuer: A, jwt: a }], { now: () => new Date(clock) });
    const token = jwtFrom(A);
    const first = await router.verify(token);
    await expect(router.verify(token)).resolves.toBe(first);
    expect(a.calls).toHaveLength(1);
    clock = exp * 1000; // at exp the entry is gone: verified again (and refused by a real verifier)
    await router.verify(token);
    expect(a.calls).toHaveLength(2);
  });

  it('remembers nothing that failed, nothing without exp, and nothing introspected', async () => {
    const failing = fakeVerifier(A, { fail: new TokenError('bad_signature'), expiresAt: exp });
    const router = createIssuerRouter([{ issuer: A, jwt: failing }], { now: () => new Date(T0) });
    await caught(router.verify(jwtFrom(A)));
    await caught(router.verify(jwtFrom(A)));
    expect(failing.calls).toHaveLength(2);

    const noExp = fakeVerifier(A);
    const plain = createIssuerRouter([{ issuer: A, jwt: noExp }], { now: () => new Date(T0) });
    await plain.verify(jwtFrom(A));
    await plain.verify(jwtFrom(A));
    expect(noExp.calls).toHaveLength(2);

    const introspection = fakeVerifier('introspection', { expiresAt: exp });
    const introspecting = createIssuerRouter([{ issuer: A, introspection, introspectAll: true }], { now: () => new Date(T0) });
    for (const token of ['opaque-token', 'opaque-token', jwtFrom(A), jwtFrom(A)]) await introspecting.verify(token);
    expect(introspection.calls).toHaveLength(4);
  });

  it('keys entries by the whole token: another payload with the same signature is verified', async () => {
    const a = fakeVerifier(A, { expiresAt: exp });
    const router = createIssuerRouter([{ issuer: A, jwt: a }], { now: () => new Date(T0) });
    await router.verify(jwtFrom(A, { scope: 'read:profile' }));
    await router.verify(jwtFrom(A, { scope: 'read:profile admin:orders' }));
    expect(a.calls).toHaveLength(2);
  });

  it('remembers a principal whose exp is a century away for at most cacheMaxTtlSec (default 300 s)', async () => {
    let clock = T0;
    const a = fakeVerifier(A, { expiresAt: T0 / 1000 + 100 * 365 * 24 * 3600 });
    const router = createIssuerRouter([{ issuer: A, jwt: a }], { now: () => new Date(clock) });
    const token = jwtFrom(A);
    await router.verify(token);
    clock = T0 + 299_000;
    await router.verify(token);
    expect(a.calls).toHaveLength(1);
    clock = T0 + 300_000;
    await router.verify(token);
    expect(a.calls).toHaveLength(2);

    const b = fakeVerifier(A, { expiresAt: T0 / 1000 + 3600 });
    const short = createIssuerRouter([{ issuer: A, jwt: b }], { cacheMaxTtlSec: 10, now: () => new Date(clock) });
    await short.verify(token);
    clock += 10_000;
    await short.verify(token);
    expect(b.calls).toHaveLength(2);
  });

  it('with maxTokenAgeSec, remembers a principal only until its iat is that old, and nothing without iat', async () => {
    let clock = T0;
    const a = fakeVerifier(A, { expiresAt: T0 / 1000 + 3600, issuedAt: T0 / 1000 - 590 });
    const router = createIssuerRouter([{ issuer: A, jwt: a }], { maxTokenAgeSec: 600, now: () => new Date(clock) });
    const token = jwtFrom(A);
    await router.verify(token);
    clock = T0 + 9_000;
    await router.verify(token);
    expect(a.calls).toHaveLength(1);
    clock = T0 + 10_000;
    await router.verify(token);
    expect(a.calls).toHaveLength(2);

    const noIat = fakeVerifier(A, { expiresAt: T0 / 1000 + 3600 });
    const strict = createIssuerRouter([{ issuer: A, jwt: noIat }], { maxTokenAgeSec: 600, now: () => new Date(T0) });
    await strict.verify(token);
    await strict.verify(token);
    expect(noIat.calls).toHaveLength(2);
  });

  it('cacheMaxEntries: 0 turns it off', async () => {
    const a = fakeVerifier(A, { expiresAt: exp });
    const router = createIssuerRouter([{ issuer: A, jwt: a }], { cacheMaxEntries: 0, now: () => new Date(T0) });
    await router.verify(jwtFrom(A));
    await router.verify(jwtFrom(A));
    expect(a.calls).toHaveLength(2);
  });
});
