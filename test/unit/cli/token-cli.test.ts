import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { runTokenCli } from '../../../src/cli/token-cli.js';
import { recordDevIssuer } from '../../../src/dev-issuer/dev-issuer.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'token-cli-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runTokenCli(args, env, root, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('npm run token', () => {
  it('prints only a user token on stdout', async () => {
    const result = await run(['--sub', 'alice', '--scope', 'read:profile read:orders', '--name', 'Alice']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = result.stdout.trim();
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(decodeJwt(token)).toMatchObject({
      iss: 'http://127.0.0.1:4000/dev-issuer',
      aud: 'http://127.0.0.1:4000/graphql',
      sub: 'alice',
      client_id: 'dev-client',
      scope: 'read:profile read:orders',
      name: 'Alice',
    });
  });

  it('mints a client-credentials token with --client (sub = client id)', async () => {
    const { code, stdout } = await run(['--client', '--client-id', 'reporting', '--scope', 'read:orders', '--expires-in', '60', '--aud', 'urn:x']);
    expect(code).toBe(0);
    const claims = decodeJwt(stdout.trim());
    expect(claims).toMatchObject({ sub: 'reporting', client_id: 'reporting', aud: 'urn:x' });
    expect(claims.exp! - claims.iat!).toBe(60);
  });

  it('follows the server environment: PORT, PUBLIC_URL, OAUTH_AUDIENCE', async () => {
    const { stdout } = await run(['--sub', 'bob', '--scope', ''], { PUBLIC_URL: 'https://api.example', OAUTH_AUDIENCE: 'urn:orders' });
    expect(decodeJwt(stdout.trim())).toMatchObject({ iss: 'https://api.example/dev-issuer', aud: 'urn:orders' });
  });

  it('mints for the server recorded in DATA_DIR with the same key, whatever the environment says', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'token-cli-data-'));
    try {
      const first = await run(['--sub', 'bob', '--scope', ''], { DATA_DIR: dataDir });
      const keyId = decodeProtectedHeader(first.stdout.trim()).kid as string;
      await recordDevIssuer(dataDir, { issuer: 'http://[::1]:5000/dev-issuer', audience: 'urn:running', keyId, url: 'http://[::1]:5000' });
      const { stdout } = await run(['--sub', 'bob', '--scope', ''], { DATA_DIR: dataDir, PORT: '6000' });
      expect(decodeJwt(stdout.trim())).toMatchObject({ iss: 'http://[::1]:5000/dev-issuer', aud: 'urn:running' });
      // --aud still wins over the recorded audience.
      expect(decodeJwt((await run(['--sub', 'bob', '--scope', '', '--aud', 'urn:x'], { DATA_DIR: dataDir })).stdout.trim())).toMatchObject({ aud: 'urn:x' });

      // A server that verifies with another key: its record does not apply.
      await recordDevIssuer(dataDir, { issuer: 'http://[::1]:5000/dev-issuer', audience: 'urn:running', keyId: 'another-key', url: 'http://[::1]:5000' });
      const other = await run(['--sub', 'bob', '--scope', ''], { DATA_DIR: dataDir, PORT: '6000' });
      expect(decodeJwt(other.stdout.trim())).toMatchObject({ iss: 'http://127.0.0.1:6000/dev-issuer', aud: 'http://127.0.0.1:6000/graphql' });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('prints usage with --help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage:');
  });

  it.each([
    [['--scope', 'a']],
    [['--sub', 'alice']],
    [['--sub', 'alice', '--client', '--scope', 'a']],
    [['--sub', 'alice', '--scope', 'a', '--expires-in', 'soon']],
    [['--sub', 'alice', '--scope', 'a', '--expires-in', '0']],
    [['--sub', 'alice', '--scope', 'a', '--expires-in', '1.5']],
    [['--sub', 'alice', '--scope', 'a', '--bogus']],
    [['--sub', 'alice', '--scope', 'a', 'positional']],
    [['--sub']],
    [['--sub', 'alice', '--scope', 'a', '--url', 'not a url']],
    [['--sub', 'alice', '--scope', 'a', '--url', 'ftp://127.0.0.1:4000']],
  ])('exits 2 with usage on stderr for %j', async (args) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage:');
  });

  it.each<[NodeJS.ProcessEnv, string]>([
    [{ OAUTH_ISSUER: 'https://as.example' }, 'OAUTH_ISSUER'],
    [{ NODE_ENV: 'production' }, 'NODE_ENV=production'],
    [{ OAUTH_ISSUERS: JSON.stringify([{ issuer: 'https://as.example' }]) }, 'OAUTH_ISSUERS'],
    [{ PORT: 'four thousand' }, 'PORT'],
  ])('refuses to run with %j', async (env, why) => {
    const { code, stdout, stderr } = await run(['--sub', 'alice', '--scope', 'a'], env);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(why);
  });
});
