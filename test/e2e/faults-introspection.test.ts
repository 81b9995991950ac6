import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type FaultMode, type FaultProxy, startFaultProxy, waitFor } from '../fixtures/fault-proxy.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:orders', 'read:profile'];
const ME = '{ products(first: 1) { edges { node { id } } } }';

describe('introspection endpoint down, slow or answering garbage (fail closed)', () => {
  let as: TestAuthorizationServer;
  let proxy: FaultProxy;
  let server: TestHttpServer;
  let token: string;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    const issuer = new URL(as.issuer);
    proxy = await startFaultProxy({ host: issuer.hostname, port: Number(issuer.port) });
    server = await startHttpServer({
      OAUTH_ISSUER: as.issuer,
      OAUTH_AUDIENCE: AUDIENCE,
      OAUTH_CLIENT_ID: as.confidentialClient.clientId,
      OAUTH_CLIENT_SECRET: as.confidentialClient.clientSecret,
      OAUTH_INTROSPECTION_URL: `http://${proxy.host}:${proxy.port}/token/introspection`,
      OAUTH_INTROSPECTION_TIMEOUT_MS: '500',
      // Neither the introspection cache nor the verified-token cache: every request asks the endpoint.
      OAUTH_INTROSPECTION_CACHE_TTL: '0',
      OAUTH_TOKEN_CACHE_MAX_TTL: '0',
    });
    token = await as.clientCredentialsToken('read:orders');
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await as?.close();
  });

  it.each<[string, FaultMode]>([
    ['down (connection refused)', 'down'],
    ['slow (accepts, never answers: the configured timeout)', 'hang'],
    ['answering garbage (200 that is not JSON)', 'garbage'],
  ])('answers 503 with Retry-After while the endpoint is %s, says so in /readyz, and recovers after', async (_name, mode) => {
    expect((await server.graphql(ME, { token })).status).toBe(200);
    const calls = as.requestCount('/token/introspection');

    await proxy.set(mode);
    const during = await server.graphql(ME, { token });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(during.body.errors?.[0]?.extensions?.['code']).toBe('SERVICE_UNAVAILABLE');
    // Fail closed: nothing ran, neither as the token's client nor anonymously.
    expect(during.body.data ?? null).toBeNull();
    expect(as.requestCount('/token/introspection')).toBe(calls);
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; warnings?: string[] };
    expect(ready.status).toBe('ready');
    expect(ready.warnings?.join(' ')).toContain('introspection endpoint');

    await proxy.set('up');
    await waitFor(async () => (await server.graphql(ME, { token })).status === 200, { what: 'introspection answering again' });
    expect(as.requestCount('/token/introspection')).toBeGreaterThan(calls);
    const after = (await (await fetch(`${server.url}/readyz`)).json()) as { warnings?: string[] };
    expect(after.warnings).toBeUndefined();
  });
});
