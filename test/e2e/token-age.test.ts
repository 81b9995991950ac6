import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK } from 'jose';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { accessTokenClaims, createTestKey, signToken, type TestKey } from '../fixtures/tokens.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const YEAR = 365 * 24 * 3600;

// Tokens are signed here with the development issuer's own key (DEV_ISSUER_KEY_FILE), so that their
// iat and exp can be anything; the server checks them with its real configuration.
describe('token age over HTTP (OAUTH_MAX_TOKEN_AGE, iat in the future, absurd exp)', () => {
  let server: TestHttpServer;
  let key: TestKey;
  let keyDir: string;

  beforeAll(async () => {
    key = await createTestKey('ES256');
    keyDir = mkdtempSync(path.join(tmpdir(), 'token-age-'));
    const keyFile = path.join(keyDir, 'dev-issuer-key.json');
    writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg }), { mode: 0o600 });
    server = await startHttpServer({ DEV_ISSUER_KEY_FILE: keyFile, OAUTH_AUDIENCE: AUDIENCE, OAUTH_MAX_TOKEN_AGE: '3600' });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const tokenIssued = (secondsAgo: number, overrides: Record<string, unknown> = {}) => {
    const now = new Date(Date.now() - secondsAgo * 1000);
    return signToken(accessTokenClaims({ issuer: server.devIssuer!.issuer, audience: AUDIENCE, now, lifetimeSec: secondsAgo + 3600 }, overrides), { key });
  };

  it('accepts a token issued ten minutes ago', async () => {
    const r = await server.graphql('{ __typename }', { token: await tokenIssued(600) });
    expect(r.status).toBe(200);
  });

  it.each<[string, () => Promise<string>]>([
    ['issued two hours ago (older than OAUTH_MAX_TOKEN_AGE)', () => tokenIssued(7200)],
    ['issued a year in the future, without nbf', () => tokenIssued(-YEAR)],
    ['with exp 1e300', () => tokenIssued(600, { exp: 1e300 })],
  ])('refuses a token %s: 401 invalid_token, nothing executed', async (_name, token) => {
    const r = await server.graphql('{ __typename }', { token: await token() });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token' });
  });
});
