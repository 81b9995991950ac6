import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { type ManifestScopesCliReport, runScopesCli } from '../../../src/cli/scopes-report-cli.js';
import { manifestEntry, writeManifest } from '../../fixtures/persisted-documents.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ME = manifestEntry('Me', 'query', 'query Me { me { displayName email } }');
const PLACE = manifestEntry('Place', 'mutation', 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId order { status } } }');
const CATALOG = manifestEntry('Catalog', 'query', 'query Catalog { products { edges { cursor } } }');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runScopesCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('npm run scopes -- --manifest', () => {
  it('prints every manifest operation with its id and scopes, and the union to request, as JSON in a child process', async () => {
    const file = writeManifest([ME, PLACE, CATALOG]);
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/scopes-report-cli.ts', '--manifest', file, '--json'], { cwd: ROOT });
    const report = JSON.parse(stdout) as ManifestScopesCliReport;
    expect(report.file).toBe(file);
    expect(report.operations).toEqual([
      expect.objectContaining({ id: ME.id, name: 'Me', type: 'query', scopes: ['read:email', 'read:profile'], userToken: true }),
      expect.objectContaining({ id: PLACE.id, name: 'Place', type: 'mutation', scopes: ['read:orders', 'write:orders'], userToken: true }),
      expect.objectContaining({ id: CATALOG.id, name: 'Catalog', type: 'query', scopes: [], authenticated: false }),
    ]);
    expect(report.scopes).toEqual(['read:email', 'read:orders', 'read:profile', 'write:orders']);
    expect(report.userToken).toBe(true);
  });

  it('prints each operation with a short id, and what the client must request, as text', async () => {
    const { code, stdout } = await run(['--manifest', writeManifest([ME, CATALOG])]);
    expect(code).toBe(0);
    expect(stdout).toContain(`query Me (id ${ME.id.slice(0, 12)}, cost 1)\n  scopes: read:email read:profile\n  cost:   1\n`);
    // products 1 + 20 (the default of first) edges × 1
    expect(stdout).toContain(`query Catalog (id ${CATALOG.id.slice(0, 12)}, cost 21)\n  scopes: none (public)\n  cost:   21\n`);
    expect(stdout).toMatch(/\nrequest: read:email read:profile\ntoken: {3}a user token/);
  });

  it('asks for no scope when every operation is public', async () => {
    const { stdout } = await run(['--manifest', writeManifest([CATALOG])]);
    expect(stdout).toContain('request: no scope\n');
    expect(stdout).not.toContain('token:');
  });

  it('exits 2 naming the entry of an invalid manifest, or the operation that no longer validates', async () => {
    const invalid = await run(['--manifest', writeManifest([ME, { ...PLACE, id: ME.id }])]);
    expect(invalid).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('operations[1].id') });
    const stale = await run(['--manifest', writeManifest([ME, manifestEntry('Old', 'query', 'query Old { me { nickname } }')])]);
    expect(stale).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('operations[1]') });
    expect(stale.stderr).toContain('"Old"');
    expect(await run(['--manifest', '/nonexistent/manifest.json'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no such file') });
  });

  it('exits 2 when given a .graphql file or --schema as well', async () => {
    const file = writeManifest([ME]);
    expect((await run(['--manifest', file, 'ops.graphql'])).code).toBe(2);
    expect((await run(['--manifest', file, '--schema'])).code).toBe(2);
    expect((await run(['--manifest'])).code).toBe(2);
  });
});
