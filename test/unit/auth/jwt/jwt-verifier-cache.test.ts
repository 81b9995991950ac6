import { describe, expect, it, jest } from '@jest/globals';

// Count signature verifications by wrapping jose's jwtVerify before the verifier imports it.
const jose = await import('jose');
const jwtVerify = jest.fn(jose.jwtVerify);
jest.unstable_mockModule('jose', () => ({ ...jose, jwtVerify }));

const { createTokenVerifier } = await import('../../../../src/auth/jwt/jwt-verifier.js');
const { accessTokenClaims, createTestKey, keySet, signToken } = await import('../../../fixtures/tokens.js');

const ISSUER = 'https://as.example';
const AUDIENCE = 'https://api.example/graphql';

describe('verified-token cache', () => {
  it('skips signature verification on a hit and verifies again once the entry lapses', async () => {
    const key = await createTestKey('ES256');
    let now = new Date('2030-01-01T00:00:00Z');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(key), currentDate: () => now });
    const token = await signToken(accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now, lifetimeSec: 60 }), { key });

    jwtVerify.mockClear();
    await verifier.verify(token);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(1);

    now = new Date(now.getTime() + 600_000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('verifies a token with a huge exp again once the cache lifetime cap has passed', async () => {
    const key = await createTestKey('ES256');
    let now = new Date('2030-01-01T00:00:00Z');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(key), currentDate: () => now, cacheMaxTtlSec: 60 });
    const token = await signToken(accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now, lifetimeSec: 200 * 365 * 24 * 3600 }), { key });

    jwtVerify.mockClear();
    await verifier.verify(token);
    now = new Date(now.getTime() + 59_000);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    now = new Date(now.getTime() + 1_000);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('defaults the cap to 300 seconds', async () => {
    const key = await createTestKey('ES256');
    let now = new Date('2030-01-01T00:00:00Z');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(key), currentDate: () => now });
    const token = await signToken(accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now, lifetimeSec: 3600 }), { key });

    jwtVerify.mockClear();
    await verifier.verify(token);
    now = new Date(now.getTime() + 299_000);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    now = new Date(now.getTime() + 1_000);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('refuses garbage without calling jose at all', async () => {
    const key = await createTestKey('ES256');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(key) });
    jwtVerify.mockClear();
    await expect(verifier.verify('not-a-jwt')).rejects.toMatchObject({ reason: 'malformed' });
    await expect(verifier.verify('x'.repeat(9000))).rejects.toMatchObject({ reason: 'too_large' });
    expect(jwtVerify).not.toHaveBeenCalled();
  });
});
