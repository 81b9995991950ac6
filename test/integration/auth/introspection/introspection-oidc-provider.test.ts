import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createIntrospectionVerifier, type IntrospectionVerifierOptions } from '../../../../src/auth/introspection/introspection-verifier.js';
import { createIssuerRouter } from '../../../../src/auth/issuers/issuer-router.js';
import { AuthServiceUnavailableError } from '../../../../src/auth/token-error.js';
import { createTokenVerifier } from '../../../../src/auth/jwt/jwt-verifier.js';
import type { TokenVerifier } from '../../../../src/auth/token-verifier.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../../fixtures/authorization-server.js';
import { reasonOf } from '../../../fixtures/tokens.js';

const AUDIENCE = 'https://api.example/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders'];

/** fetch that counts the requests made to URLs ending in `suffix`. */
function countingFetch(suffix: string): { fetch: typeof fetch; count: () => number } {
  let count = 0;
  return {
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith(suffix)) count += 1;
      return fetch(input, init);
    }) as typeof fetch,
    count: () => count,
  };
}


describe('opaque tokens introspected at a real authorization server (oidc-provider, RFC 7662)', () => {
  let as: TestAuthorizationServer;
  const verifiers: TokenVerifier[] = [];
  const verifier = (options: Partial<IntrospectionVerifierOptions> = {}) => {
    const created = createIntrospectionVerifier({ issuer: as.issuer, audience: AUDIENCE, ...as.confidentialClient, ...options });
    verifiers.push(created);
    return created;
  };

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
  });
  afterAll(async () => {
    for (const v of verifiers) v.close();
    await as?.close();
  });

  it('discovers the introspection endpoint and verifies a client-credentials token to a client principal', async () => {
    const v = verifier();
    await v.ready();
    const token = await as.clientCredentialsToken('read:orders write:orders');
    expect(token.split('.')).toHaveLength(1);
    const principal = await v.verify(token);
    expect(principal).toMatchObject({ kind: 'client', subject: as.confidentialClient.clientId, clientId: as.confidentialClient.clientId, issuer: as.issuer, audience: [AUDIENCE] });
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'write:orders']);
  });

  it('verifies an authorization-code token to a user principal', async () => {
    const token = await as.userToken({ sub: 'alice', scope: 'read:profile read:orders' });
    const principal = await verifier().verify(token);
    expect(principal).toMatchObject({ kind: 'user', subject: 'alice', clientId: as.publicClientId });
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'read:profile']);
  });

  it('refuses a token the server never issued as inactive', async () => {
    await expect(reasonOf(verifier().verify('never-issued-0123456789abcdef'))).resolves.toBe('inactive');
  });

  it('refuses an active token for another audience', async () => {
    const token = await as.clientCredentialsToken('read:orders');
    await expect(reasonOf(verifier({ audience: 'https://another-api.example' }).verify(token))).resolves.toBe('wrong_audience');
  });

  it('answers 503 (introspection_unavailable) when our client credentials are refused', async () => {
    const token = await as.clientCredentialsToken('read:orders');
    const v = verifier({ clientSecret: 'wrong-secret' });
    const error = await v.verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'introspection_unavailable' });
    expect((error as Error).message).not.toContain('wrong-secret');
    expect((error as Error).message).not.toContain(token);
  });

  it('makes one introspection request for concurrent verifications, and none while cached', async () => {
    const counter = countingFetch('/token/introspection');
    const v = verifier({ fetch: counter.fetch });
    await v.ready();
    const token = await as.clientCredentialsToken('read:orders');
    const principals = await Promise.all(Array.from({ length: 10 }, () => v.verify(token)));
    expect(new Set(principals.map((p) => p.subject)).size).toBe(1);
    await v.verify(token);
    expect(counter.count()).toBe(1);
  });

  it("stops accepting a token once it expires: the cache never outlives exp", async () => {
    const shortLived = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque', accessTokenTtlSec: 2 });
    try {
      const counter = countingFetch('/token/introspection');
      const v = createIntrospectionVerifier({ issuer: shortLived.issuer, audience: AUDIENCE, ...shortLived.confidentialClient, fetch: counter.fetch, clockToleranceSec: 0, cacheTtlSec: 3600 });
      verifiers.push(v);
      const token = await shortLived.clientCredentialsToken('read:orders');
      await expect(reasonOf(v.verify(token))).resolves.toBe('accepted');
      await expect(reasonOf(v.verify(token))).resolves.toBe('accepted');
      expect(counter.count()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // Past exp the cached answer is gone (or refused by the exp check), and the server says inactive.
      await expect(reasonOf(v.verify(token))).resolves.toMatch(/^(inactive|expired)$/);
      await expect(reasonOf(v.verify(token))).resolves.toBe('inactive');
    } finally {
      await shortLived.close();
    }
  });

  it('answers 503 when the authorization server is down, and never serves an uncached token', async () => {
    const other = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    const v = createIntrospectionVerifier({ issuer: other.issuer, audience: AUDIENCE, ...other.confidentialClient, timeoutMs: 1000 });
    verifiers.push(v);
    await v.ready();
    const token = await other.clientCredentialsToken('read:orders');
    await other.close();
    await expect(reasonOf(v.verify(token))).resolves.toBe('introspection_unavailable');
  });
});

describe('JWT and opaque tokens from one issuer behind the router', () => {
  it('verifies JWTs locally and sends only opaque tokens to introspection', async () => {
    const jwtAs = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    const opaqueAs = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    const counter = countingFetch('/token/introspection');
    const router = createIssuerRouter([
      { issuer: jwtAs.issuer, jwt: createTokenVerifier({ issuer: jwtAs.issuer, audience: AUDIENCE }) },
      { issuer: opaqueAs.issuer, jwt: createTokenVerifier({ issuer: opaqueAs.issuer, audience: AUDIENCE }), introspection: createIntrospectionVerifier({ issuer: opaqueAs.issuer, audience: AUDIENCE, ...opaqueAs.confidentialClient, fetch: counter.fetch }) },
    ]);
    try {
      await router.ready();
      await expect(router.verify(await jwtAs.clientCredentialsToken('read:orders'))).resolves.toMatchObject({ issuer: jwtAs.issuer });
      expect(counter.count()).toBe(0);
      await expect(router.verify(await opaqueAs.clientCredentialsToken('read:orders'))).resolves.toMatchObject({ issuer: opaqueAs.issuer });
      expect(counter.count()).toBe(1);
      expect(router.status()).toMatchObject({ ready: true, issuers: [{ issuer: jwtAs.issuer, ready: true }, { issuer: opaqueAs.issuer, ready: true }] });
    } finally {
      router.close();
      await jwtAs.close();
      await opaqueAs.close();
    }
  });
});
