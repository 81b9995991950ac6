import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import { loadConfig } from '../../../src/config.js';
import { DEV_ISSUER_RECORD_FILE, loadOrCreateDevIssuer, readDevIssuerRecord, recordDevIssuer, type DevIssuer } from '../../../src/dev-issuer/dev-issuer.js';
import { metadataUrls } from '../../../src/auth/jwt/discovery.js';
import { createTokenVerifier } from '../../../src/auth/jwt/jwt-verifier.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dev-issuer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('development issuer', () => {
  it('creates a private key file (0600, parent directories created) and reuses it', async () => {
    const keyFile = join(dir, 'nested', 'data', 'key.json');
    const settings = { keyFile, issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' };

    const first = await loadOrCreateDevIssuer(settings);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(keyFile, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    expect(first.jwks.keys).toHaveLength(1);
    expect(first.jwks.keys[0]).not.toHaveProperty('d');

    const token = await first.sign({ sub: 'alice', scope: 'read:profile' });
    const second = await loadOrCreateDevIssuer(settings);
    expect(second.jwks).toEqual(first.jwks);

    // A token from the first instance verifies against the keys of the second (a server restart).
    const verifier = createTokenVerifier({ issuer: settings.issuer, audience: settings.audience, keys: second.jwks });
    await expect(verifier.verify(token)).resolves.toMatchObject({ kind: 'user', subject: 'alice', clientId: 'dev-client' });
  });

  it('signs RFC 9068 access tokens that the verifier maps to users and clients', async () => {
    const issuer = await loadOrCreateDevIssuer({ keyFile: join(dir, 'k2.json'), issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'urn:api' });
    const verifier = createTokenVerifier({ issuer: issuer.issuer, audience: 'urn:api', keys: issuer.jwks });

    const userToken = await issuer.sign({ sub: 'alice', scope: 'read:profile read:orders', name: 'Alice' });
    expect(decodeProtectedHeader(userToken)).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: issuer.jwks.keys[0]!.kid });
    const user = await verifier.verify(userToken);
    expect(user).toMatchObject({ kind: 'user', subject: 'alice', name: 'Alice', audience: ['urn:api'], tokenId: expect.any(String) });
    expect([...user.scopes]).toEqual(['read:profile', 'read:orders']);
    expect(user.expiresAt! - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);

    const client = await verifier.verify(await issuer.sign({ clientId: 'reporting', scope: 'read:orders', expiresInSec: 60 }));
    expect(client).toMatchObject({ kind: 'client', subject: 'reporting', clientId: 'reporting' });

    await expect(verifier.verify(await issuer.sign({ sub: 'alice', scope: '', audience: 'urn:other' }))).rejects.toMatchObject({ reason: 'wrong_audience' });
  });

  it('agrees with concurrent first-time callers on one key', async () => {
    const settings = { keyFile: join(dir, 'race', 'key.json'), issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'urn:api' };
    const issuers = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevIssuer(settings)));
    const kids = new Set(issuers.map((issuer) => issuer.jwks.keys[0]!.kid));
    expect(kids.size).toBe(1);
    expect(JSON.parse(await readFile(settings.keyFile, 'utf8'))).toMatchObject({ kid: [...kids][0] });
  });

  it('refuses, and never overwrites, a key file that does not hold a private key', async () => {
    const keyFile = join(dir, 'bad.json');
    await writeFile(keyFile, '{"kty":"EC","crv":"P-256","x":"a","y":"b"}');
    await expect(loadOrCreateDevIssuer({ keyFile, issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'urn:api' })).rejects.toThrow(keyFile);
    expect(await readFile(keyFile, 'utf8')).toBe('{"kty":"EC","crv":"P-256","x":"a","y":"b"}');
  });

  describe('served over HTTP', () => {
    let server: Server;
    let devIssuer: DevIssuer;

    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      devIssuer = await loadOrCreateDevIssuer({ keyFile: join(dir, 'served.json'), issuer: `${base}/dev-issuer`, audience: `${base}/graphql` });
      const [rfc8414] = metadataUrls(devIssuer.issuer);
      const routes = new Map<string, unknown>([
        [new URL(rfc8414).pathname, devIssuer.metadata()],
        ['/dev-issuer/jwks.json', devIssuer.jwks],
      ]);
      server.on('request', (req, res) => {
        const body = routes.get(req.url ?? '');
        if (body === undefined) return res.writeHead(404).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('is discoverable through its RFC 8414 metadata and verifiable through its jwks_uri', async () => {
      expect(devIssuer.metadata()).toMatchObject({ issuer: devIssuer.issuer, jwks_uri: `${devIssuer.issuer}/jwks.json` });
      const verifier = createTokenVerifier({ issuer: devIssuer.issuer, audience: `${new URL(devIssuer.issuer).origin}/graphql` });
      try {
        await verifier.ready();
        await expect(verifier.verify(await devIssuer.sign({ sub: 'dana', scope: 'read:profile' }))).resolves.toMatchObject({ subject: 'dana' });
      } finally {
        verifier.close();
      }
    });
  });

  it('npm run token prints only a token that the server configuration accepts', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEV_ISSUER_KEY_FILE: join(dir, 'cli', 'key.json'), PORT: '4999', NODE_ENV: 'development' };
    delete env['OAUTH_ISSUER'];
    delete env['OAUTH_AUDIENCE'];
    delete env['PUBLIC_URL'];
    delete env['HOST'];
    delete env['DATA_DIR'];
    delete env['NODE_OPTIONS'];
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token-cli.ts', '--sub', 'alice', '--scope', 'read:profile read:orders'],
      { cwd: PROJECT_ROOT, env, timeout: 30_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const config = loadConfig(env, PROJECT_ROOT);
    if (config.auth.issuer.kind !== 'development') throw new Error('expected the development issuer');
    const settings = { keyFile: config.auth.issuer.keyFile, issuer: config.auth.issuer.issuer, audience: config.auth.audience };
    const issuer = await loadOrCreateDevIssuer(settings);
    const verifier = createTokenVerifier({ issuer: settings.issuer, audience: settings.audience, keys: issuer.jwks });
    await expect(verifier.verify(stdout.trim())).resolves.toMatchObject({ subject: 'alice', issuer: 'http://127.0.0.1:4999/dev-issuer' });
  });

  describe('the record a running server leaves in DATA_DIR', () => {
    const RECORD = { issuer: 'http://127.0.0.1:5000/dev-issuer', audience: 'http://127.0.0.1:5000/graphql', keyId: 'k1', url: 'http://127.0.0.1:5000' };

    it('is read back as written, and replaced whole', async () => {
      const dataDir = join(dir, 'record', 'data');
      await recordDevIssuer(dataDir, RECORD);
      await expect(readDevIssuerRecord(dataDir)).resolves.toEqual(RECORD);
      await recordDevIssuer(dataDir, { ...RECORD, issuer: 'http://[::1]:6000/dev-issuer' });
      await expect(readDevIssuerRecord(dataDir)).resolves.toEqual({ ...RECORD, issuer: 'http://[::1]:6000/dev-issuer' });
    });

    it.each([
      ['missing', undefined],
      ['not JSON', '{'],
      ['without a key id', JSON.stringify({ ...RECORD, keyId: undefined })],
    ])('is undefined when %s', async (_name, text) => {
      const dataDir = await mkdtemp(join(dir, 'record-'));
      if (text !== undefined) await writeFile(join(dataDir, DEV_ISSUER_RECORD_FILE), text);
      await expect(readDevIssuerRecord(dataDir)).resolves.toBeUndefined();
    });
  });
});
