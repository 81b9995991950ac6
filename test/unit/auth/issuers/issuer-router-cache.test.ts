import { describe, expect, it, jest } from '@jest/globals';

// Count signature verifications by wrapping verifyJwsSignature before the verifier imports it.
const signatures = await import('../../../../src/auth/jwt/jws-signature.js');
const verifySignature = jest.fn(signatures.verifyJwsSignature);
jest.unstable_mockModule('../../../../src/auth/jwt/jws-signature.js', () => ({ ...signatures, verifyJwsSignature: verifySignature }));

const { createTokenVerifier } = await import('../../../../src/auth/jwt/jwt-verifier.js');
const { createIssuerRouter } = await import('../../../../src/auth/issuers/issuer-router.js');
const { accessTokenClaims, createTestKey, keySet, signToken } = await import('../../../fixtures/tokens.js');

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';

/**
 * The one verified-token cache, as the server builds it: the issuer router in front of a real JWT
 * verifier, both on the same injected clock.
 */
async function setUp(options: { cacheMaxTtlSec?: number; cacheMaxEntries?: number; maxTokenAgeSec?: number } = {}) {
  const key = await createTestKey('ES256');
  const clock = { now: new Date('2030-01-01T00:00:00Z') };
  const currentDate = () => clock.now;
  const jwt = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(key), currentDate, ...(options.maxTokenAgeSec !== undefined ? { maxTokenAgeSec: options.maxTokenAgeSec } : {}) });
  const router = createIssuerRouter([{ issuer: ISSUER, jwt }], { now: currentDate, ...options });
  const sign = (lifetimeSec: number, extra: Record<string, unknown> = {}) => signToken({ ...accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now: clock.now, lifetimeSec }), ...extra }, { key });
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  verifySignature.mockClear();
  return { router, sign, advance, clock };
}

describe('verified-token cache (issuer router in front of the JWT verifier)', () => {
  it('skips signature verification on a hit and verifies again once the token expires', async () => {
    const { router, sign, advance } = await setUp();
    const token = await sign(60);
    const first = await router.verify(token);
    expect(await router.verify(token)).toBe(first);
    expect(await router.verify(token)).toBe(first);
    expect(verifySignature).toHaveBeenCalledTimes(1);

    advance(600_000);
    await expect(router.verify(token)).rejects.toMatchObject({ reason: 'expired' });
    expect(verifySignature).toHaveBeenCalledTimes(2);
  });

  it('never serves a principal at or after its exp, even inside the clock tolerance', async () => {
    const { router, sign, advance } = await setUp();
    const token = await sign(60);
    const first = await router.verify(token);
    advance(59_999);
    expect(await router.verify(token)).toBe(first);
    expect(verifySignature).toHaveBeenCalledTimes(1);
    advance(10_001); // 10 s past exp, within the 30 s tolerance: verified afresh, and not remembered
    expect(await router.verify(token)).not.toBe(first);
    expect(await router.verify(token)).not.toBe(first);
    expect(verifySignature).toHaveBeenCalledTimes(3);
    advance(50_000);
    await expect(router.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('verifies a token with a huge exp again once the cache lifetime cap has passed', async () => {
    const { router, sign, advance } = await setUp({ cacheMaxTtlSec: 60 });
    const token = await sign(200 * 365 * 24 * 3600);
    await router.verify(token);
    advance(59_000);
    await router.verify(token);
    expect(verifySignature).toHaveBeenCalledTimes(1);
    advance(1_000);
    await router.verify(token);
    expect(verifySignature).toHaveBeenCalledTimes(2);
  });

  it('defaults the cap to 300 seconds', async () => {
    const { router, sign, advance } = await setUp();
    const token = await sign(3600);
    await router.verify(token);
    advance(299_000);
    await router.verify(token);
    expect(verifySignature).toHaveBeenCalledTimes(1);
    advance(1_000);
    await router.verify(token);
    expect(verifySignature).toHaveBeenCalledTimes(2);
  });

  it('does not serve a principal past the maximum token age', async () => {
    const { router, sign, advance, clock } = await setUp({ maxTokenAgeSec: 3600 });
    const token = await sign(7200, { iat: Math.floor(clock.now.getTime() / 1000) - 3590 });
    const first = await router.verify(token);
    expect(await router.verify(token)).toBe(first);
    advance(11_000); // age 3601: verified afresh (jose still accepts it within the tolerance)
    expect(await router.verify(token)).not.toBe(first);
    advance(39_000);
    await expect(router.verify(token)).rejects.toMatchObject({ reason: 'too_old' });
  });

  it('remembers no refused token', async () => {
    const { router, sign } = await setUp();
    const token = await sign(60, { aud: 'https://other.example' });
    await expect(router.verify(token)).rejects.toMatchObject({ reason: 'wrong_audience' });
    await expect(router.verify(token)).rejects.toMatchObject({ reason: 'wrong_audience' });
    expect(verifySignature).toHaveBeenCalledTimes(2);
  });

  it('is bounded, evicting the least recently used entry', async () => {
    const { router, sign } = await setUp({ cacheMaxEntries: 2 });
    const [a, b, c] = await Promise.all([1, 2, 3].map((n) => sign(60, { jti: `t${n}` })));
    const pa = await router.verify(a!);
    const pb = await router.verify(b!);
    expect(await router.verify(a!)).toBe(pa); // a is now the most recently used
    await router.verify(c!); // evicts b
    expect(await router.verify(a!)).toBe(pa);
    expect(await router.verify(b!)).not.toBe(pb);
    expect(verifySignature).toHaveBeenCalledTimes(4);
  });

  it('refuses garbage without calling jose at all', async () => {
    const { router } = await setUp();
    await expect(router.verify('not-a-jwt')).rejects.toMatchObject({ reason: 'malformed' });
    await expect(router.verify('x'.repeat(9000))).rejects.toMatchObject({ reason: 'too_large' });
    expect(verifySignature).not.toHaveBeenCalled();
  });
});
