import { describe, expect, it } from '@jest/globals';
import { discoverIssuer, DiscoveryError, metadataUrls } from '../../../../src/auth/jwt/discovery.js';

type Route = (url: string) => Response | Promise<Response>;

function fakeFetch(routes: Record<string, Route>): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    calls.push(url);
    init?.signal?.throwIfAborted();
    const route = routes[url];
    if (!route) return new Response('not found', { status: 404 });
    return route(url);
  };
  return { fetch: impl as typeof fetch, calls };
}

const json = (body: unknown, status = 200) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DiscoveryError) return error.reason;
    throw error;
  }
  return 'ok';
}

describe('metadataUrls', () => {
  it.each([
    ['https://as.example', 'https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration'],
    ['https://as.example/', 'https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration'],
    [
      'https://as.example/tenant1',
      'https://as.example/.well-known/oauth-authorization-server/tenant1',
      'https://as.example/tenant1/.well-known/openid-configuration',
    ],
    [
      'https://as.example/realms/a/b/',
      'https://as.example/.well-known/oauth-authorization-server/realms/a/b',
      'https://as.example/realms/a/b/.well-known/openid-configuration',
    ],
    ['http://127.0.0.1:4000/dev-issuer', 'http://127.0.0.1:4000/.well-known/oauth-authorization-server/dev-issuer', 'http://127.0.0.1:4000/dev-issuer/.well-known/openid-configuration'],
  ])('%s (RFC 8414 §3.1, then OIDC)', (issuer, rfc8414, oidc) => {
    expect(metadataUrls(issuer)).toEqual([rfc8414, oidc]);
  });
});

describe('discoverIssuer', () => {
  const issuer = 'https://as.example/tenant1';
  const metadata = { issuer, jwks_uri: 'https://as.example/tenant1/jwks', introspection_endpoint: 'https://as.example/tenant1/introspect' };

  it('uses RFC 8414 metadata when present', async () => {
    const { fetch, calls } = fakeFetch({ 'https://as.example/.well-known/oauth-authorization-server/tenant1': json(metadata) });
    await expect(discoverIssuer(issuer, { fetch })).resolves.toMatchObject(metadata);
    expect(calls).toEqual(['https://as.example/.well-known/oauth-authorization-server/tenant1']);
  });

  it('falls back to OpenID Connect discovery on 404', async () => {
    const { fetch, calls } = fakeFetch({ 'https://as.example/tenant1/.well-known/openid-configuration': json(metadata) });
    await expect(discoverIssuer(issuer, { fetch })).resolves.toMatchObject({ jwks_uri: metadata.jwks_uri });
    expect(calls).toHaveLength(2);
  });

  it('falls back on a network error or a broken document', async () => {
    for (const first of [() => Promise.reject(new TypeError('fetch failed')), () => new Response('<html>'), json(metadata, 500)]) {
      const { fetch } = fakeFetch({
        'https://as.example/.well-known/oauth-authorization-server/tenant1': first,
        'https://as.example/tenant1/.well-known/openid-configuration': json(metadata),
      });
      await expect(discoverIssuer(issuer, { fetch })).resolves.toMatchObject({ issuer });
    }
  });

  it('refuses metadata whose issuer differs from the configured one (RFC 8414 §3.3)', async () => {
    for (const other of ['https://as.example/tenant2', `${issuer}/`, 'https://evil.example/tenant1']) {
      const { fetch } = fakeFetch({ 'https://as.example/.well-known/oauth-authorization-server/tenant1': json({ ...metadata, issuer: other }) });
      expect(await reasonOf(discoverIssuer(issuer, { fetch }))).toBe('issuer_mismatch');
    }
  });

  it('refuses metadata without a usable jwks_uri', async () => {
    for (const jwks_uri of [undefined, 42, 'not a url', 'file:///etc/passwd']) {
      const { fetch } = fakeFetch({ 'https://as.example/.well-known/oauth-authorization-server/tenant1': json({ issuer, jwks_uri }) });
      expect(await reasonOf(discoverIssuer(issuer, { fetch }))).toBe('invalid_metadata');
    }
  });

  it('reports http_error when both URLs answer with errors', async () => {
    const { fetch } = fakeFetch({});
    expect(await reasonOf(discoverIssuer(issuer, { fetch }))).toBe('http_error');
  });

  it('does not follow redirects', async () => {
    const { fetch } = fakeFetch({
      'https://as.example/.well-known/oauth-authorization-server/tenant1': () => new Response(null, { status: 302, headers: { location: 'https://evil.example' } }),
    });
    expect(await reasonOf(discoverIssuer(issuer, { fetch }))).toBe('http_error');
  });

  it('times out every request', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const started = Date.now();
    expect(await reasonOf(discoverIssuer(issuer, { fetch: hang, timeoutMs: 50 }))).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses an issuer that is not an http(s) URL without query or fragment', async () => {
    await expect(discoverIssuer('ftp://as.example')).rejects.toThrow(TypeError);
    await expect(discoverIssuer('https://as.example/?tenant=1')).rejects.toThrow(TypeError);
    await expect(discoverIssuer('https://as.example/#x')).rejects.toThrow(TypeError);
  });
});
