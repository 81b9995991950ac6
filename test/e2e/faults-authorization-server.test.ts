import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import { type TestAuthorizationServer, createSigningKey, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { waitFor } from '../fixtures/fault-proxy.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:orders', 'read:profile'];
const QUERY = '{ products(first: 1) { edges { node { id } } } }';

const forgerKey = generateKeyPair('RS256');

/** A well-formed access token for `issuer` signed by a key nobody publishes, under a random `kid`. */
async function unknownKidToken(issuer: string): Promise<string> {
  const { privateKey } = await forgerKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'read:orders', client_id: 'forger' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: randomBytes(12).toString('base64url') })
    .setIssuer(issuer)
    .setAudience(AUDIENCE)
    .setSubject('forger')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
}

/** A token from `as`, asked again once when the request fails on a connection kept alive to the server that stood on that port before. */
async function tokenFrom(as: TestAuthorizationServer): Promise<string> {
  try {
    return await as.clientCredentialsToken('read:orders');
  } catch {
    return as.clientCredentialsToken('read:orders');
  }
}

async function readyz(server: TestHttpServer): Promise<{ status: number; body: { status?: string; warnings?: string[]; reasons?: string[] } }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

describe('authorization server down after start, and back', () => {
  let as: TestAuthorizationServer | undefined;
  let port: number;
  let server: TestHttpServer;
  const keyA = createSigningKey('RS256');
  const ec = createSigningKey('ES256');

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, signingKeys: [await keyA, await ec] });
    port = Number(new URL(as.issuer).port);
    // No verified-token cache: every request below goes through the key set.
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, OAUTH_TOKEN_CACHE_MAX_TTL: '0', OAUTH_JWKS_COOLDOWN_MS: '300', OAUTH_JWKS_CACHE_MAX_AGE_MS: '1000' });
    await waitFor(async () => (await readyz(server)).status === 200, { what: 'keys loaded' });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('keeps accepting tokens signed by known keys, refuses an unknown kid with 401, says what is wrong in /readyz, and recovers by itself', async () => {
    const known = await as!.clientCredentialsToken('read:orders');
    expect((await server.graphql(QUERY, { token: known })).status).toBe(200);

    await as!.close();
    as = undefined;
    // Past the keys' max age every request tries a refresh, which fails: the known key keeps verifying.
    await waitFor(
      async () => {
        const answer = await server.graphql(QUERY, { token: known });
        expect(answer.status).toBe(200);
        return ((await readyz(server)).body.warnings ?? []).length > 0;
      },
      { what: '/readyz to report the failing key set refresh' },
    );
    const ready = await readyz(server);
    expect(ready.status).toBe(200);
    expect(ready.body.warnings?.join(' ')).toMatch(/key set .*jwks unavailable/);

    const forged = await server.graphql(QUERY, { token: await unknownKidToken(`http://127.0.0.1:${port}`) });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await server.graphql(QUERY, { token: known })).status).toBe(200);

    // It comes back (same keys plus a new one it now signs with): no request needed for readiness to clear.
    const keyB = await createSigningKey('RS256');
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port, signingKeys: [keyB, await keyA, await ec] });
    await waitFor(async () => (await readyz(server)).body.warnings === undefined, { what: '/readyz without warnings after the authorization server returns' });
    expect(as.requestCount('/jwks')).toBeGreaterThanOrEqual(1);
    const fresh = await tokenFrom(as);
    expect(decodeProtectedHeader(fresh).kid).toBe(keyB.kid);
    await waitFor(async () => (await server.graphql(QUERY, { token: fresh })).status === 200, { what: 'the new key accepted' });
    expect((await server.graphql(QUERY, { token: known })).status).toBe(200);
  });
});

describe('signing key rotation at the authorization server, over HTTP', () => {
  let as: TestAuthorizationServer | undefined;
  let server: TestHttpServer;

  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('accepts a token signed by a new key after exactly one key set fetch, and refuses a removed key once the new key set is seen', async () => {
    const oldKey = await createSigningKey('RS256');
    const newKey = await createSigningKey('RS256');
    const ec = await createSigningKey('ES256');
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, signingKeys: [oldKey, ec] });
    const port = Number(new URL(as.issuer).port);
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, OAUTH_TOKEN_CACHE_MAX_TTL: '0', OAUTH_JWKS_COOLDOWN_MS: '200', OAUTH_JWKS_CACHE_MAX_AGE_MS: '60000' });
    await waitFor(async () => (await readyz(server)).status === 200, { what: 'keys loaded' });
    const beforeRotation = await as.clientCredentialsToken('read:orders');
    expect((await server.graphql(QUERY, { token: beforeRotation })).status).toBe(200);

    // Rotation, step 1: a new signing key, the old one still published.
    await as.close();
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port, signingKeys: [newKey, oldKey, ec] });
    const afterRotation = await tokenFrom(as);
    expect(decodeProtectedHeader(afterRotation).kid).toBe(newKey.kid);
    // Within the cooldown of the start-up fetch an unknown kid is refused without a fetch; after it, one fetch.
    await waitFor(async () => (await server.graphql(QUERY, { token: afterRotation })).status === 200, { what: 'the new key accepted' });
    expect(as.requestCount('/jwks')).toBe(1);
    for (let i = 0; i < 3; i += 1) expect((await server.graphql(QUERY, { token: afterRotation })).status).toBe(200);
    expect((await server.graphql(QUERY, { token: beforeRotation })).status).toBe(200);
    expect(as.requestCount('/jwks')).toBe(1);

    // Step 2: the old key is withdrawn. A token with an unknown kid makes the server fetch the key set (once per cooldown);
    // once it has, the old key's tokens are refused.
    await as.close();
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port, signingKeys: [newKey, ec] });
    await waitFor(
      async () => {
        await server.graphql(QUERY, { token: await unknownKidToken(as!.issuer) });
        return as!.requestCount('/jwks') > 0;
      },
      { what: 'the key set fetched again' },
    );
    const refused = await server.graphql(QUERY, { token: beforeRotation });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await server.graphql(QUERY, { token: afterRotation })).status).toBe(200);
  });
});

describe('a flood of tokens with random kids', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    // The default cooldown (30 s): the whole test runs within one.
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE });
    await waitFor(async () => (await readyz(server)).status === 200, { what: 'keys loaded' });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('is refused with 401 and makes at most one key set fetch per cooldown', async () => {
    const before = as.requestCount('/jwks');
    const tokens = await Promise.all(Array.from({ length: 40 }, () => unknownKidToken(as.issuer)));
    const concurrent = await Promise.all(tokens.slice(0, 20).map((token) => server.graphql(QUERY, { token })));
    const sequential = [];
    for (const token of tokens.slice(20)) sequential.push(await server.graphql(QUERY, { token }));
    expect(new Set([...concurrent, ...sequential].map((r) => r.status))).toEqual(new Set([401]));
    expect(as.requestCount('/jwks') - before).toBeLessThanOrEqual(1);
    // Real tokens are unaffected.
    expect((await server.graphql(QUERY, { token: await as.clientCredentialsToken('read:orders') })).status).toBe(200);
  });
});
