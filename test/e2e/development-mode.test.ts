import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const run = promisify(execFile);

describe('development mode (npm start without configuration)', () => {
  let server: TestHttpServer;

  beforeAll(async () => {
    server = await startHttpServer({});
  });
  afterAll(async () => server?.close());

  it('serves the development issuer metadata and keys', async () => {
    const issuer = server.devIssuer!.issuer;
    const path = new URL(issuer).pathname;
    const metadata = (await (await fetch(`${server.url}${path}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['issuer']).toBe(issuer);
    const jwks = (await (await fetch(`${server.url}${path}/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
  });

  it('opens Apollo Sandbox pre-filled with a development token and an example operation', async () => {
    const r = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('Sandbox');
    expect(html).toMatch(/Authorization[^B]{0,20}Bearer ey/);
    expect(html).toContain('MyOrders');
  });

  it('answers queries sent with GET (query string), with the token, and refuses mutations there', async () => {
    const token = await server.devIssuer!.sign({ sub: 'gina', name: 'Gina', scope: 'read:profile write:orders' });
    const get = (query: string, variables?: unknown) =>
      fetch(`${server.url}/graphql?${new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) })}`, {
        headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      });
    const r = await get('query ($n: Int) { me { displayName } products(first: $n) { edges { node { id } } } }', { n: 2 });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { data: { me: { displayName: string }; products: { edges: unknown[] } } };
    expect(body.data.me.displayName).toBe('Gina');
    expect(body.data.products.edges).toHaveLength(2);
    const mutation = await get('mutation { placeOrder(input: { items: [] }) { orderId } }');
    expect(mutation.status).toBe(405);
  });

  it('accepts a token from the development issuer and answers the caller profile', async () => {
    const token = await server.devIssuer!.sign({ sub: 'alice', name: 'Alice', scope: 'read:profile read:orders' });
    const r = await server.graphql('{ me { displayName orders { edges { node { id } } } } }', { token });
    expect(r.status).toBe(200);
    expect(r.body.data?.['me']).toEqual({ displayName: 'Alice', orders: { edges: [] } });
  });
});

/**
 * The landing page's all-scopes token is for the developer's own browser: it is embedded only
 * when the server listens on a loopback address, or when DEV_LANDING_TOKEN=true asks for it.
 */
describe('development landing page token', () => {
  const landingPage = async (env: Record<string, string>) => {
    const server = await startHttpServer(env);
    try {
      const port = new URL(server.url).port;
      const r = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(r.status).toBe(200);
      return await r.text();
    } finally {
      await server.close();
    }
  };
  const EMBEDDED_TOKEN = /Bearer ey/;

  it('is embedded when listening on 127.0.0.1', async () => {
    expect(await landingPage({ HOST: '127.0.0.1' })).toMatch(EMBEDDED_TOKEN);
  });

  it('is not embedded when listening on every interface (HOST=0.0.0.0)', async () => {
    const html = await landingPage({ HOST: '0.0.0.0' });
    expect(html).toContain('Sandbox');
    expect(html).not.toMatch(EMBEDDED_TOKEN);
    expect(html).toContain('npm run token');
  });

  it('is embedded on 0.0.0.0 when DEV_LANDING_TOKEN=true', async () => {
    expect(await landingPage({ HOST: '0.0.0.0', DEV_LANDING_TOKEN: 'true' })).toMatch(EMBEDDED_TOKEN);
  });

  it('is not embedded on 127.0.0.1 when DEV_LANDING_TOKEN=false', async () => {
    expect(await landingPage({ HOST: '127.0.0.1', DEV_LANDING_TOKEN: 'false' })).not.toMatch(EMBEDDED_TOKEN);
  });
});

describe('readiness', () => {
  it('answers /readyz 503 naming the database when it cannot be reached, while /healthz stays 200', async () => {
    const server = await startHttpServer({});
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await server.database.close();
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons).toContain('database unreachable');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('npm run token', () => {
  it('prints only a token, signed with the key the server loads', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dataDir = mkdtempSync(`${tmpdir()}/rs-token-`);
    try {
      const cliEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', OAUTH_ISSUER: '' };
      const { stdout } = await run('npx', ['tsx', 'src/cli/token-cli.ts', '--sub', 'alice', '--scope', 'read:profile', '--name', 'Alice'], { cwd: PROJECT_ROOT, env: cliEnv });
      const token = stdout.trim();
      expect(token.split('.')).toHaveLength(3);
      const server = await startHttpServer({ DATA_DIR: dataDir });
      try {
        const r = await server.graphql('{ me { displayName } }', { token });
        expect(r.status).toBe(200);
        expect(r.body.data?.['me']).toEqual({ displayName: 'Alice' });
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  /** The CLI as a newcomer runs it: in the project folder, without the server's variables. */
  const token = async (args: string[], env: Record<string, string>) => {
    const cliEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', ...env };
    for (const name of ['PORT', 'HOST', 'PUBLIC_URL', 'OAUTH_AUDIENCE', 'OAUTH_ISSUER', 'OAUTH_ISSUERS', 'DEV_ISSUER_KEY_FILE', 'NODE_OPTIONS']) {
      if (!(name in env)) delete cliEnv[name];
    }
    return run('npx', ['tsx', 'src/cli/token-cli.ts', '--sub', 'alice', '--scope', 'read:profile', '--name', 'Alice', ...args], { cwd: PROJECT_ROOT, env: cliEnv });
  };
  const displayName = async (server: TestHttpServer, token: string) => {
    const r = await server.graphql('{ me { displayName } }', { token });
    return { status: r.status, me: r.body.data?.['me'] };
  };

  it('mints tokens the running server accepts, whatever PORT it was started with', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dataDir = mkdtempSync(`${tmpdir()}/rs-token-`);
    // PORT=0 (a port chosen at start-up) where the CLI's environment says nothing: its default is 4000.
    const server = await startHttpServer({ DATA_DIR: dataDir, PORT: '0' });
    try {
      const { stdout } = await token([], { DATA_DIR: dataDir });
      expect(await displayName(server, stdout.trim())).toEqual({ status: 200, me: { displayName: 'Alice' } });
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('with --url, mints tokens for the server at that URL when it trusts the same key', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const serverDir = mkdtempSync(`${tmpdir()}/rs-token-`);
    const otherDir = mkdtempSync(`${tmpdir()}/rs-token-`);
    const server = await startHttpServer({ DATA_DIR: serverDir, OAUTH_AUDIENCE: 'urn:orders-dev' });
    try {
      // Another data folder, nothing recorded there: only --url says which issuer and audience.
      const { stdout } = await token(['--url', server.url], { DATA_DIR: otherDir, DEV_ISSUER_KEY_FILE: `${serverDir}/dev-issuer-key.json` });
      expect(await displayName(server, stdout.trim())).toEqual({ status: 200, me: { displayName: 'Alice' } });
      // A key the server does not trust: refused by the CLI, not by the server later.
      const refused = await token(['--url', server.url], { DATA_DIR: otherDir }).then(
        () => undefined,
        (error: { code: number; stdout: string }) => error,
      );
      expect(refused).toMatchObject({ code: 1, stdout: '' });
    } finally {
      await server.close();
      rmSync(serverDir, { recursive: true, force: true });
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});

describe('listening on IPv6 (HOST=::)', () => {
  it('starts, with a public URL that is a valid URL, and answers on the loopback address', async () => {
    const server = await startHttpServer({ HOST: '::' });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const metadata = (await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource`)).json()) as Record<string, unknown>;
      expect(metadata['resource']).toBe('http://127.0.0.1:0/graphql');
    } finally {
      await server.close();
    }
  });
});
