import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuthServiceUnavailableError, TokenError } from '../../../../src/auth/token-error.js';
import { setUpTokenVerification, type TokenVerification } from '../../../../src/auth/issuers/configured-verifier.js';
import { loadConfig } from '../../../../src/config.js';
import { silentLogger } from '../../../../src/logger.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../../fixtures/authorization-server.js';
import { accessTokenClaims, createTestKey, signToken, reasonOf } from '../../../fixtures/tokens.js';

const AUDIENCE = 'https://api.example.com/graphql';
const CATALOG = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];

/** Verification exactly as the server builds it, from environment variables. */
function fromEnvironment(env: Record<string, string>): TokenVerification {
  const config = loadConfig({ NODE_ENV: 'test', OAUTH_AUDIENCE: AUDIENCE, ...env }, '/tmp');
  return setUpTokenVerification({ auth: config.auth, sharedCache: config.sharedCache, catalog: CATALOG, log: silentLogger });
}


describe('several trusted issuers (OAUTH_ISSUERS) with two real authorization servers', () => {
  let first: TestAuthorizationServer;
  let second: TestAuthorizationServer;
  let verification: TokenVerification;

  beforeAll(async () => {
    // The first speaks our scope names; the second `resource:verb` names, mapped by its entry.
    first = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['read:orders', 'read:profile'] });
    second = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['orders:read', 'orders:admin'], signingAlg: 'ES256', issuerPath: '/tenant-b' });
    verification = fromEnvironment({
      OAUTH_ISSUERS: JSON.stringify([
        { issuer: first.issuer },
        { issuer: second.issuer, algorithms: ['ES256'], scopeMap: { convention: 'resource:verb' } },
      ]),
    });
    await verification.verifier.ready();
  });
  afterAll(async () => {
    await verification?.close();
    await first?.close();
    await second?.close();
  });

  it('accepts tokens from each issuer, each verified with its own keys and settings', async () => {
    await expect(verification.verifier.verify(await first.userToken({ sub: 'alice', scope: 'read:orders' }))).resolves.toMatchObject({ kind: 'user', subject: 'alice', issuer: first.issuer });
    const fromSecond = await verification.verifier.verify(await second.userToken({ sub: 'bob', scope: 'orders:read orders:admin' }));
    expect(fromSecond).toMatchObject({ kind: 'user', subject: 'bob', issuer: second.issuer });
    expect([...fromSecond.scopes].sort()).toEqual(['admin:orders', 'read:orders']);
  });

  it("applies an issuer's own algorithm list: the second accepts ES256 only", async () => {
    const rsaSecond = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['orders:read'], signingAlg: 'RS256' });
    try {
      const v = fromEnvironment({ OAUTH_ISSUERS: JSON.stringify([{ issuer: rsaSecond.issuer, algorithms: ['ES256'] }]) });
      await expect(reasonOf(v.verifier.verify(await rsaSecond.clientCredentialsToken('orders:read')))).resolves.toBe('alg_not_allowed');
      await v.close();
    } finally {
      await rsaSecond.close();
    }
  });

  it('refuses a token from an issuer not in the list as wrong_issuer, naming it for the log', async () => {
    const stranger = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['read:orders'] });
    try {
      const error = await verification.verifier.verify(await stranger.clientCredentialsToken('read:orders')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenError);
      expect((error as TokenError).logFields()).toEqual({ reason: 'wrong_issuer', issuer: stranger.issuer, clientId: stranger.confidentialClient.clientId, subject: stranger.confidentialClient.clientId });
    } finally {
      await stranger.close();
    }
  });

  it("refuses a token that claims one trusted issuer but is signed with the other's key", async () => {
    const key = await createTestKey('ES256');
    const forged = await signToken(accessTokenClaims({ issuer: first.issuer, audience: AUDIENCE, now: new Date() }), { key });
    await expect(reasonOf(verification.verifier.verify(forged))).resolves.toBe('unknown_key');
  });

  it('reports readiness per issuer', () => {
    expect(verification.verifier.status()).toEqual({ ready: true, issuers: [{ issuer: first.issuer, ready: true }, { issuer: second.issuer, ready: true }] });
  });

  it('keeps serving the other issuers when one is down at start-up, and says which one is not ready', async () => {
    const v = fromEnvironment({ OAUTH_ISSUERS: JSON.stringify([{ issuer: first.issuer }, { issuer: 'http://127.0.0.1:9/down' }]) });
    try {
      await expect(v.verifier.ready()).rejects.toBeInstanceOf(AuthServiceUnavailableError);
      const status = v.verifier.status();
      expect(status.ready).toBe(false);
      expect(status.issuers).toEqual([
        { issuer: first.issuer, ready: true },
        { issuer: 'http://127.0.0.1:9/down', ready: false, reason: expect.stringContaining('signing keys not loaded') },
      ]);
      await expect(reasonOf(v.verifier.verify(await first.clientCredentialsToken('read:orders')))).resolves.toBe('accepted');
    } finally {
      await v.close();
    }
  });
});

describe('the resource-indicator scope form with a real authorization server', () => {
  it('maps aud https://api.example.com/orders + scope read to read:orders', async () => {
    const resource = 'https://api.example.com/orders';
    const as = await startAuthorizationServer({ audience: resource, scopes: ['read', 'write'] });
    const v = fromEnvironment({
      OAUTH_ISSUERS: JSON.stringify([{ issuer: as.issuer, audience: [AUDIENCE, resource], scopeMap: { audiencePrefixes: ['https://api.example.com/'] } }]),
    });
    try {
      const principal = await v.verifier.verify(await as.userToken({ sub: 'carol', scope: 'read write' }));
      expect(principal.audience).toEqual([resource]);
      expect([...principal.scopes].sort()).toEqual(['read:orders', 'write:orders']);
    } finally {
      await v.close();
      await as.close();
    }
  });

  it('maps URI-prefixed scopes with OAUTH_SCOPE_MAP for a single OAUTH_ISSUER', async () => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['https://api.example.com/orders:read'] });
    const v = fromEnvironment({ OAUTH_ISSUER: as.issuer, OAUTH_SCOPE_MAP: JSON.stringify({ convention: 'resource:verb', prefixes: ['https://api.example.com/'] }) });
    try {
      const principal = await v.verifier.verify(await as.clientCredentialsToken('https://api.example.com/orders:read'));
      expect([...principal.scopes]).toEqual(['read:orders']);
    } finally {
      await v.close();
      await as.close();
    }
  });
});
