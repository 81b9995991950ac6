import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { createDpopKey, type DpopKey, signDpopProof, type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, rawPost, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders', 'admin:orders'];
const ORDERS = '{ orders(first: 1) { edges { node { id } } } }';


describe('DPoP-bound tokens (RFC 9449) from a real authorization server, over HTTP', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  let key: DpopKey;
  let token: string;

  const dpopHeaders = async (options: { accessToken?: string; proofKey?: DpopKey; htm?: string; htu?: string } = {}) => {
    const accessToken = options.accessToken ?? token;
    const proof = await signDpopProof(options.proofKey ?? key, { htm: options.htm ?? 'POST', htu: options.htu ?? `${server.url}/graphql`, accessToken });
    return { authorization: `DPoP ${accessToken}`, dpop: proof };
  };

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE });
    key = await createDpopKey('ES256');
    token = await as.dpopClientCredentialsToken('read:orders admin:orders', key);
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('gets a token bound to the client key from the token endpoint (cnf.jkt)', () => {
    expect(decodeJwt(token)['cnf']).toEqual({ jkt: key.jkt });
  });

  it('accepts the token with a fresh proof', async () => {
    const r = await server.graphql(ORDERS, { headers: await dpopHeaders() });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.['orders']).toBeDefined();
  });

  it('accepts every request that brings its own fresh proof', async () => {
    for (let i = 0; i < 3; i += 1) expect((await server.graphql(ORDERS, { headers: await dpopHeaders() })).status).toBe(200);
  });

  it('checks htm and htu on a GET, ignoring the query string', async () => {
    const query = new URLSearchParams({ query: ORDERS }).toString();
    const headers = { ...(await dpopHeaders({ htm: 'GET' })), 'apollo-require-preflight': 'true' };
    const r = await fetch(`${server.url}/graphql?${query}`, { headers });
    expect(r.status).toBe(200);
    const wrongMethod = await fetch(`${server.url}/graphql?${query}`, { headers: { ...(await dpopHeaders({ htm: 'POST' })), 'apollo-require-preflight': 'true' } });
    expect(wrongMethod.status).toBe(401);
  });

  it('refuses a replayed proof: 401 invalid_dpop_proof with the accepted algorithms, nothing executed', async () => {
    const headers = await dpopHeaders();
    expect((await server.graphql(ORDERS, { headers })).status).toBe(200);
    const replay = await server.graphql(ORDERS, { headers });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof".*algs="ES256[^"]*"$/);
    expect(replay.body.data).toBeUndefined();
    expect(replay.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_dpop_proof' });
    expect(JSON.stringify(replay.body)).not.toContain(token);
  });

  it('refuses the same token presented as a Bearer token: 401 invalid_token', async () => {
    const r = await server.graphql(ORDERS, { token });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(r.body.data).toBeUndefined();
  });

  it('refuses a proof signed by another key than the one the token is bound to', async () => {
    const thief = await createDpopKey('ES256');
    const r = await server.graphql(ORDERS, { headers: await dpopHeaders({ proofKey: thief }) });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });

  it('refuses a proof made for another server (htu)', async () => {
    const r = await server.graphql(ORDERS, { headers: await dpopHeaders({ htu: `${as.issuer}/me` }) });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });

  it('refuses a token that is not DPoP-bound under the DPoP scheme', async () => {
    const bearer = await as.clientCredentialsToken('read:orders admin:orders');
    const r = await server.graphql(ORDERS, { headers: await dpopHeaders({ accessToken: bearer }) });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
  });

  it('refuses the DPoP scheme without a proof: 400 invalid_request', async () => {
    const r = await server.graphql(ORDERS, { headers: { authorization: `DPoP ${token}` } });
    expect(r.status).toBe(400);
    expect(r.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_request"/);
  });

  it('refuses two DPoP headers: 400 invalid_request', async () => {
    const { authorization, dpop } = await dpopHeaders();
    const r = await rawPost(`${server.url}/graphql`, [['content-type', 'application/json'], ['authorization', authorization], ['dpop', dpop], ['dpop', dpop]], JSON.stringify({ query: ORDERS }));
    expect(r.status).toBe(400);
    expect(String(r.headers['www-authenticate'])).toContain('error="invalid_request"');
  });

  it('offers both Bearer and DPoP when the request has no credentials', async () => {
    const r = await server.graphql(ORDERS);
    expect(r.status).toBe(401);
    const challenge = r.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toMatch(/, DPoP (realm="[^"]*", )?algs="ES256[^"]*"$/);
    expect(challenge).not.toContain('error=');
  });
});

describe('DPoP replay cache in memory, full (DPOP_REPLAY_CACHE_MAX_ENTRIES), over HTTP', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, DPOP_REPLAY_CACHE_MAX_ENTRIES: '2', DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY: '2' });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After to a new proof, and still refuses a replay', async () => {
    const key = await createDpopKey('ES256');
    const token = await as.dpopClientCredentialsToken('read:orders admin:orders', key);
    const headers = async () => ({ authorization: `DPoP ${token}`, dpop: await signDpopProof(key, { htm: 'POST', htu: `${server.url}/graphql`, accessToken: token }) });
    const early = await headers();
    expect((await server.graphql(ORDERS, { headers: early })).status).toBe(200);
    expect((await server.graphql(ORDERS, { headers: await headers() })).status).toBe(200);

    const full = await server.graphql(ORDERS, { headers: await headers() });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(full.body.data).toBeUndefined();
    expect(full.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    const replay = await server.graphql(ORDERS, { headers: early });
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_dpop_proof' });
  });
});

const redisUrl = process.env['TEST_REDIS_URL'];
if (redisUrl === undefined) console.info('DPoP replicas test skipped: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run it');

(redisUrl === undefined ? describe.skip : describe)('DPoP replay detection shared by replicas through Redis (REDIS_URL)', () => {
  let as: TestAuthorizationServer;
  let replicas: TestHttpServer[] = [];

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    // Both replicas are reached through one public URL, as behind a load balancer.
    const env = { OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `test-${process.pid}-${Date.now()}:`, PUBLIC_URL: 'https://api.orders.test' };
    replicas = [await startHttpServer(env), await startHttpServer(env)];
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await as?.close();
  });

  it('refuses at one replica a proof already used at the other', async () => {
    const key = await createDpopKey('ES256');
    const token = await as.dpopClientCredentialsToken('read:orders admin:orders', key);
    const proof = await signDpopProof(key, { htm: 'POST', htu: 'https://api.orders.test/graphql', accessToken: token });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    expect((await replicas[0]!.graphql(ORDERS, { headers })).status).toBe(200);
    const replay = await replicas[1]!.graphql(ORDERS, { headers });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });
});
