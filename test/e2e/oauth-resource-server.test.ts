import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, rawPost, startHttpServer } from '../fixtures/http-server.js';
import { accessTokenClaims, createTestKey, signToken } from '../fixtures/tokens.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];


describe('resource server over HTTP with tokens from a real authorization server', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    server = await startHttpServer({ OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  it('serves a user (authorization code + PKCE) their own profile and orders', async () => {
    const token = await as.userToken({ sub: 'alice', scope: 'read:profile read:orders write:orders' });
    const products = await server.graphql('{ products(first: 1) { edges { node { id } } } }');
    const productId = (products.body.data?.['products'] as { edges: Array<{ node: { id: string } }> }).edges[0]!.node.id;
    const placed = await server.graphql(`mutation { placeOrder(input: { items: [{ productId: "${productId}", quantity: 1 }] }) { orderId } }`, { token });
    expect(placed.status).toBe(200);
    const me = await server.graphql('{ me { displayName orders { edges { node { id status } } } } }', { token });
    expect(me.status).toBe(200);
    const edges = (me.body.data?.['me'] as { orders: { edges: Array<{ node: { id: string } }> } }).orders.edges;
    expect(edges.map((e) => e.node.id)).toContain((placed.body.data?.['placeOrder'] as { orderId: string }).orderId);
  });

  it('treats a client-credentials token as a client: no profile, orders only with admin:orders', async () => {
    const reader = await as.clientCredentialsToken('read:orders read:profile');
    const me = await server.graphql('{ me { id } }', { token: reader });
    expect(me.status).toBe(403);
    expect(me.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'user_required' });
    const admin = await as.clientCredentialsToken('admin:orders read:orders');
    const list = await server.graphql('{ orders(first: 5) { edges { node { id status } } } }', { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.errors).toBeUndefined();
  });

  it('answers 401 with a bare challenge and resource_metadata when no token is sent', async () => {
    const r = await server.graphql('{ me { id } }');
    expect(r.status).toBe(401);
    const challenge = r.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).not.toContain('error=');
    expect(challenge).toContain('resource_metadata="');
  });

  it('answers 403 insufficient_scope with the needed scope', async () => {
    const token = await as.userToken({ sub: 'bob', scope: 'read:orders' });
    const r = await server.graphql('{ me { displayName } }', { token });
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(r.headers.get('www-authenticate')).toContain('scope="read:profile"');
  });

  describe('invalid tokens: 401 invalid_token, nothing executed', () => {
    const expectInvalid = async (token: string) => {
      const r = await server.graphql('{ products(first: 1) { edges { node { id } } } }', { token });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      expect(r.body.data).toBeUndefined();
      expect(JSON.stringify(r.body)).not.toContain(token);
    };

    it('refuses a token whose signature was tampered with', async () => {
      const token = await as.clientCredentialsToken('read:orders');
      const [h, p, s] = token.split('.');
      await expectInvalid(`${h}.${p}.${s!.slice(0, -4)}AAAA`);
    });

    it('refuses an ID token presented as an access token', async () => {
      await expectInvalid(await as.idToken({ sub: 'alice' }));
    });

    it('refuses a token signed by a key the issuer never published', async () => {
      const key = await createTestKey('RS256', 'forged');
      await expectInvalid(await signToken(accessTokenClaims({ issuer: as.issuer, audience: AUDIENCE, now: new Date() }, { scope: 'admin:orders' }), { key }));
    });

    it('refuses garbage', async () => {
      await expectInvalid('not-a-jwt');
    });
  });

  describe('malformed requests: 400 invalid_request', () => {
    it('refuses two Authorization headers', async () => {
      const token = await as.clientCredentialsToken('read:orders');
      const r = await rawPost(`${server.url}/graphql`, [['content-type', 'application/json'], ['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]], JSON.stringify({ query: '{ __typename }' }));
      expect(r.status).toBe(400);
      expect(String(r.headers['www-authenticate'])).toContain('error="invalid_request"');
    });

    it('refuses a token in the query string', async () => {
      const r = await fetch(`${server.url}/graphql?access_token=abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(r.status).toBe(400);
      expect(r.headers.get('www-authenticate')).toContain('error="invalid_request"');
    });
  });

  it('publishes RFC 9728 metadata with scopes read from the schema', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/graphql']) {
      const r = await fetch(`${server.url}${path}`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ resource: AUDIENCE, authorization_servers: [as.issuer], bearer_methods_supported: ['header'] });
      expect([...(body['scopes_supported'] as string[])].sort()).toEqual([...SCOPES].sort());
      expect(body['dpop_signing_alg_values_supported']).toEqual(expect.arrayContaining(['ES256', 'RS256']));
      expect(body['dpop_bound_access_tokens_required']).toBe(false);
    }
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});

describe('resource server whose authorization server is down', () => {
  it('starts, answers /readyz 503 with the reason, and fails closed with 503 for tokens', async () => {
    const server = await startHttpServer({ OAUTH_ISSUER: 'http://127.0.0.1:9/', OAUTH_AUDIENCE: AUDIENCE });
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons.join(' ')).toContain('signing keys');
      const key = await createTestKey('RS256');
      const token = await signToken(accessTokenClaims({ issuer: 'http://127.0.0.1:9/', audience: AUDIENCE, now: new Date() }), { key });
      const r = await server.graphql('{ products(first: 1) { edges { node { id } } } }', { token });
      expect(r.status).toBe(503);
      const anonymous = await server.graphql('{ products(first: 1) { edges { node { id } } } }');
      expect(anonymous.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
