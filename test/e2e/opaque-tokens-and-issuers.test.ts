import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { TEST_REDIS_URL, redisReachable } from '../fixtures/redis.js';
import { startIntrospectionProxy } from '../fixtures/introspection-proxy.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];
const REDIS_URL = TEST_REDIS_URL;


const ME = '{ me { id displayName } }';

describe('opaque access tokens over HTTP (introspection, shared cache)', () => {
  let as: TestAuthorizationServer;
  let proxy: Awaited<ReturnType<typeof startIntrospectionProxy>>;
  let replicaA: TestHttpServer;
  let replicaB: TestHttpServer;
  let redisUp = false;
  const prefix = `e2e-${randomBytes(6).toString('hex')}:`;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    proxy = await startIntrospectionProxy(`${as.issuer}/token/introspection`);
    redisUp = await redisReachable(REDIS_URL);
    if (!redisUp) console.info(`Redis-shared cache assertions skipped: nothing answers at ${new URL(REDIS_URL).host}`);
    const env = {
      OAUTH_ISSUER: as.issuer,
      OAUTH_AUDIENCE: AUDIENCE,
      OAUTH_CLIENT_ID: as.confidentialClient.clientId,
      OAUTH_CLIENT_SECRET: as.confidentialClient.clientSecret,
      OAUTH_INTROSPECTION_URL: proxy.url,
      ...(redisUp ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    };
    replicaA = await startHttpServer(env);
    replicaB = await startHttpServer(env);
  });

  afterAll(async () => {
    await replicaA?.close();
    await replicaB?.close();
    await proxy?.close();
    await as?.close();
    if (redisUp) {
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });

  it('serves a user holding an opaque token, introspected once for both replicas when Redis is shared', async () => {
    const token = await as.userToken({ sub: 'dana', scope: 'read:profile' });
    const before = proxy.calls();
    const a = await replicaA.graphql(ME, { token });
    expect(a.status).toBe(200);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data?.['me']).toMatchObject({ id: expect.any(String) });
    const b = await replicaB.graphql(ME, { token });
    expect(b.status).toBe(200);
    expect(proxy.calls() - before).toBe(redisUp ? 1 : 2);
  });

  it('answers 401 invalid_token for a token the authorization server does not know', async () => {
    const r = await replicaA.graphql(ME, { token: 'never-issued-opaque-token-0123456789' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(r.body.data).toBeUndefined();
  });

  it('fails closed with 503 while introspection fails, then recovers', async () => {
    const token = await as.clientCredentialsToken('admin:orders read:orders');
    proxy.mode('fail');
    try {
      const r = await replicaA.graphql('{ products(first: 1) { edges { node { id } } } }', { token });
      expect(r.status).toBe(503);
      expect(r.body.data).toBeUndefined();
      expect(JSON.stringify(r.body)).not.toContain(token);
    } finally {
      proxy.mode('forward');
    }
    const again = await replicaA.graphql('{ orders(first: 1) { edges { node { id } } } }', { token });
    expect(again.status).toBe(200);
  });
});

describe('several trusted issuers over HTTP (OAUTH_ISSUERS)', () => {
  let first: TestAuthorizationServer;
  let second: TestAuthorizationServer;
  let server: TestHttpServer;

  beforeAll(async () => {
    first = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    second = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['profile:read'], issuerPath: '/b' });
    server = await startHttpServer({
      OAUTH_AUDIENCE: AUDIENCE,
      OAUTH_ISSUERS: JSON.stringify([{ issuer: first.issuer }, { issuer: second.issuer, scopeMap: { convention: 'resource:verb' } }]),
    });
  });
  afterAll(async () => {
    await server?.close();
    await first?.close();
    await second?.close();
  });

  it('accepts users from either issuer, with the second one’s scopes mapped', async () => {
    for (const token of [await first.userToken({ sub: 'erin', scope: 'read:profile' }), await second.userToken({ sub: 'erin', scope: 'profile:read' })]) {
      const r = await server.graphql(ME, { token });
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    }
  });

  it('refuses a token from any other issuer with 401', async () => {
    const stranger = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    try {
      const r = await server.graphql(ME, { token: await stranger.userToken({ sub: 'erin', scope: 'read:profile' }) });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      await stranger.close();
    }
  });

  it('lists every trusted issuer in the RFC 9728 metadata', async () => {
    const body = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource/graphql`)).json()) as Record<string, unknown>;
    expect(body['authorization_servers']).toEqual([first.issuer, second.issuer]);
    expect(body).not.toHaveProperty('resource_signing_alg_values_supported');
  });

  it('reports readiness per issuer', async () => {
    await waitUntilReady(server.url);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', issuers: [{ issuer: first.issuer, ready: true }, { issuer: second.issuer, ready: true }] });
  });
});

describe('a trusted issuer that is down', () => {
  it('makes /readyz 503 naming that issuer, while the other one keeps working', async () => {
    const up = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    const server = await startHttpServer({ OAUTH_AUDIENCE: AUDIENCE, OAUTH_ISSUERS: JSON.stringify([{ issuer: up.issuer }, { issuer: 'http://127.0.0.1:9/down' }]) });
    try {
      const r = await server.graphql(ME, { token: await up.userToken({ sub: 'finn', scope: 'read:profile' }) });
      expect(r.status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { reasons: string[]; issuers: Array<{ issuer: string; ready: boolean }> };
      expect(body.issuers).toEqual([{ issuer: up.issuer, ready: true }, { issuer: 'http://127.0.0.1:9/down', ready: false }]);
      expect(body.reasons.join(' ')).toContain('http://127.0.0.1:9/down');
      expect(body.reasons.join(' ')).not.toContain(up.issuer);
    } finally {
      await server.close();
      await up.close();
    }
  });
});

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if ((await fetch(`${url}/readyz`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
