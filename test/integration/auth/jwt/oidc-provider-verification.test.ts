import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { discoverIssuer, metadataUrls } from '../../../../src/auth/jwt/discovery.js';
import { AuthServiceUnavailableError } from '../../../../src/auth/token-error.js';
import { createTokenVerifier } from '../../../../src/auth/jwt/jwt-verifier.js';
import type { TokenVerifier } from '../../../../src/auth/token-verifier.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../../fixtures/authorization-server.js';
import { accessTokenClaims, createTestKey, signToken } from '../../../fixtures/tokens.js';

const AUDIENCE = 'https://api.example/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders'];

describe('verifying tokens from a real authorization server (oidc-provider)', () => {
  let as: TestAuthorizationServer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    verifier = createTokenVerifier({ issuer: as.issuer, audience: AUDIENCE });
    await verifier.ready();
  });

  afterAll(async () => {
    verifier?.close();
    await as?.close();
  });

  it('is ready once metadata and keys are loaded', () => {
    expect(verifier.status()).toEqual({ ready: true });
  });

  it('verifies a client-credentials token to a client principal with its granted scopes', async () => {
    const token = await as.clientCredentialsToken('read:orders write:orders not:a:scope');
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ kind: 'client', subject: as.confidentialClient.clientId, clientId: as.confidentialClient.clientId, issuer: as.issuer, audience: [AUDIENCE] });
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'write:orders']);
  });

  it('verifies an authorization-code (PKCE) token to a user principal', async () => {
    const token = await as.userToken({ sub: 'alice', scope: 'read:profile read:orders' });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ kind: 'user', subject: 'alice', clientId: as.publicClientId });
    expect([...principal.scopes].sort()).toEqual(['read:orders', 'read:profile']);
  });

  it('refuses an ID token as an access token', async () => {
    const idToken = await as.idToken({ sub: 'alice' });
    expect(decodeProtectedHeader(idToken).typ).toBeUndefined();
    expect(decodeJwt(idToken).aud).toBe(as.publicClientId);
    await expect(verifier.verify(idToken)).rejects.toMatchObject({ reason: 'wrong_type' });
  });

  it('refuses tokens for another audience and tokens from another issuer', async () => {
    const other = await startAuthorizationServer({ audience: 'https://other.example/api', scopes: SCOPES });
    try {
      const foreign = createTokenVerifier({ issuer: other.issuer, audience: AUDIENCE });
      await foreign.ready();
      await expect(foreign.verify(await other.clientCredentialsToken('read:orders'))).rejects.toMatchObject({ reason: 'wrong_audience' });
      // A token from another issuer is signed with a key ours does not publish.
      await expect(verifier.verify(await other.clientCredentialsToken('read:orders'))).rejects.toMatchObject({ reason: 'unknown_key' });
      foreign.close();
    } finally {
      await other.close();
    }
  });
});

describe('metadata discovery against oidc-provider', () => {
  it('uses the RFC 8414 document of an issuer at the root', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    try {
      const [rfc8414] = metadataUrls(as.issuer);
      expect((await fetch(rfc8414)).status).toBe(200);
      await expect(discoverIssuer(as.issuer)).resolves.toMatchObject({ issuer: as.issuer, jwks_uri: `${as.issuer}/jwks` });
    } finally {
      await as.close();
    }
  });

  it('falls back to OpenID Connect discovery for an issuer with a path, and verifies its tokens', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, issuerPath: '/tenant1' });
    const verifier = createTokenVerifier({ issuer: as.issuer, audience: AUDIENCE });
    try {
      expect(as.issuer).toMatch(/\/tenant1$/);
      const [rfc8414, oidc] = metadataUrls(as.issuer);
      expect(rfc8414).toMatch(/\/\.well-known\/oauth-authorization-server\/tenant1$/);
      expect((await fetch(rfc8414)).status).toBe(404);
      expect((await fetch(oidc)).status).toBe(200);
      await expect(discoverIssuer(as.issuer)).resolves.toMatchObject({ issuer: as.issuer, jwks_uri: `${as.issuer}/jwks` });
      await expect(verifier.verify(await as.userToken({ sub: 'carol', scope: 'read:orders' }))).resolves.toMatchObject({ kind: 'user', subject: 'carol' });
    } finally {
      verifier.close();
      await as.close();
    }
  });

  it('refuses metadata for a different issuer (mix-up protection)', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, issuerPath: '/tenant1' });
    try {
      // Same host, but the configured issuer is not the one the document names.
      const configured = as.issuer.replace(/tenant1$/, 'tenant1/');
      await expect(discoverIssuer(configured)).rejects.toMatchObject({ reason: 'issuer_mismatch' });
    } finally {
      await as.close();
    }
  });
});

describe('oidc-provider variants', () => {
  it('verifies ES256-signed access tokens', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, signingAlg: 'ES256' });
    const verifier = createTokenVerifier({ issuer: as.issuer, audience: AUDIENCE });
    try {
      await expect(verifier.verify(await as.userToken({ sub: 'bob', scope: 'read:profile' }))).resolves.toMatchObject({ kind: 'user', subject: 'bob' });
    } finally {
      verifier.close();
      await as.close();
    }
  });

  it('issues opaque tokens the JWT verifier refuses and introspection describes', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    const verifier = createTokenVerifier({ issuer: as.issuer, audience: AUDIENCE });
    try {
      const token = await as.clientCredentialsToken('read:orders');
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'malformed' });
      await expect(as.introspect(token)).resolves.toMatchObject({ active: true, scope: 'read:orders', aud: AUDIENCE });
    } finally {
      verifier.close();
      await as.close();
    }
  });
});

describe('an authorization server that is down at start-up', () => {
  it('makes ready() fail with a reason, reports not ready, and recovers once it comes up', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const verifier = createTokenVerifier({ issuer, audience: AUDIENCE, retryInitialDelayMs: 50, retryMaxDelayMs: 200, discoveryTimeoutMs: 1000 });
    let as: TestAuthorizationServer | undefined;
    try {
      const failure = await verifier.ready().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AuthServiceUnavailableError);
      expect(failure).toMatchObject({ reason: 'discovery_failed' });
      expect(verifier.status()).toMatchObject({ ready: false, reason: expect.any(String) });

      // A well-formed token cannot be checked without keys: 503, not 401.
      const key = await createTestKey('RS256');
      const wellFormed = await signToken(accessTokenClaims({ issuer, audience: AUDIENCE, now: new Date() }), { key });
      await expect(verifier.verify(wellFormed)).rejects.toMatchObject({ name: 'AuthServiceUnavailableError', reason: 'discovery_failed' });

      as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port });
      expect(as.issuer).toBe(issuer);
      const token = await as.clientCredentialsToken('read:orders');

      await waitFor(() => verifier.status().ready, 5000);
      await expect(verifier.verify(token)).resolves.toMatchObject({ kind: 'client' });
    } finally {
      verifier.close();
      await as?.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
