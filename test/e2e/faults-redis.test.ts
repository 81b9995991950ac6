import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { type TestAuthorizationServer, createDpopKey, signDpopProof, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type FaultProxy, startFaultProxy, waitFor } from '../fixtures/fault-proxy.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { TEST_REDIS_URL, redisReachable } from '../fixtures/redis.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const PUBLIC_URL = 'https://api.orders.test';
const SCOPES = ['read:orders', 'read:profile', 'admin:orders'];
const QUERY = '{ products(first: 1) { edges { node { id } } } }';

const redisUp = await redisReachable(TEST_REDIS_URL);
if (!redisUp) console.info(`Redis fault tests skipped: nothing answers at ${new URL(TEST_REDIS_URL).host}`);

/**
 * Redis is never stopped: the servers reach it through a TCP proxy of their own (and write under a
 * key prefix of their own), and it is the proxy that goes down.
 */
(redisUp ? describe : describe.skip)('Redis down, and back', () => {
  const prefix = `faults-${randomBytes(6).toString('hex')}:`;
  let proxy: FaultProxy;
  let opaqueAs: TestAuthorizationServer;
  let dpopAs: TestAuthorizationServer;
  let introspecting: TestHttpServer;
  let dpop: TestHttpServer;

  beforeAll(async () => {
    const redis = new URL(TEST_REDIS_URL);
    proxy = await startFaultProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    const viaProxy = new URL(TEST_REDIS_URL);
    viaProxy.host = `${proxy.host}:${proxy.port}`;
    opaqueAs = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    dpopAs = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    const shared = { OAUTH_AUDIENCE: AUDIENCE, REDIS_URL: viaProxy.href, REDIS_KEY_PREFIX: prefix, OAUTH_TOKEN_CACHE_MAX_TTL: '0' };
    introspecting = await startHttpServer({
      ...shared,
      OAUTH_ISSUER: opaqueAs.issuer,
      OAUTH_CLIENT_ID: opaqueAs.confidentialClient.clientId,
      OAUTH_CLIENT_SECRET: opaqueAs.confidentialClient.clientSecret,
    });
    dpop = await startHttpServer({ ...shared, OAUTH_ISSUER: dpopAs.issuer, PUBLIC_URL });
  });
  afterAll(async () => {
    await introspecting?.close();
    await dpop?.close();
    await proxy?.close();
    await opaqueAs?.close();
    await dpopAs?.close();
    // Only this test's keys.
    const cleaner = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await cleaner.connect();
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length > 0) await cleaner.del(...keys);
    await cleaner.quit();
  });

  /** Introspection requests the authorization server received for two requests with `token`. */
  const introspectionsForTwo = async (token: string): Promise<{ statuses: number[]; introspections: number }> => {
    const before = opaqueAs.requestCount('/token/introspection');
    const statuses = [(await introspecting.graphql(QUERY, { token })).status, (await introspecting.graphql(QUERY, { token })).status];
    return { statuses, introspections: opaqueAs.requestCount('/token/introspection') - before };
  };

  it('introspection cache: while Redis is down every request is a miss and introspects again (no error), and results are shared in Redis again after', async () => {
    const token = await opaqueAs.clientCredentialsToken('read:orders');
    await waitFor(async () => (await introspectionsForTwo(token)).introspections === 0, { what: 'introspection results cached in Redis' });

    await proxy.set('down');
    expect(await introspectionsForTwo(token)).toEqual({ statuses: [200, 200], introspections: 2 });

    await proxy.set('up');
    const fresh = await opaqueAs.clientCredentialsToken('read:orders');
    // ioredis reconnects in the background; once it has, the second request is a hit.
    await waitFor(async () => (await introspectionsForTwo(fresh)).introspections <= 1, { what: 'the Redis cache used again' });
    expect(await introspectionsForTwo(fresh)).toEqual({ statuses: [200, 200], introspections: 0 });
  });

  it('DPoP replay cache: while Redis is down DPoP requests get 503 with Retry-After (fail closed), and after it returns proofs used before are still refused', async () => {
    const key = await createDpopKey('ES256');
    const token = await dpopAs.dpopClientCredentialsToken('read:orders admin:orders', key);
    const headers = async () => ({ authorization: `DPoP ${token}`, dpop: await signDpopProof(key, { htm: 'POST', htu: `${PUBLIC_URL}/graphql`, accessToken: token }) });
    let used: Record<string, string> = {};
    await waitFor(
      async () => {
        used = await headers();
        return (await dpop.graphql(QUERY, { headers: used })).status === 200;
      },
      { what: 'the DPoP replay cache reachable' },
    );

    await proxy.set('down');
    const during = await dpop.graphql(QUERY, { headers: await headers() });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(during.body.errors?.[0]?.extensions?.['code']).toBe('SERVICE_UNAVAILABLE');
    expect(during.body.data ?? null).toBeNull();

    await proxy.set('up');
    await waitFor(async () => (await dpop.graphql(QUERY, { headers: await headers() })).status === 200, { what: 'DPoP accepted again' });
    const replay = await dpop.graphql(QUERY, { headers: used });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });
});
