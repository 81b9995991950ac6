import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadOrCreateDevIssuer } from '../../src/dev-issuer/dev-issuer.js';
import { BENCH_USERS } from '../../bench/lib/seed.js';
import { type Running, startAuthnOnly } from '../../bench/lib/servers.js';

// The benchmark's authorization overhead is `project` against `authn-only`: that variant must
// authenticate like the product and authorize nothing, or the figure measures something else.
describe("the benchmark's authn-only server", () => {
  let dataDir: string;
  let server: Running;
  let profileOnlyToken: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'rs-bench-authn-'));
    server = await startAuthnOnly(dataDir, true);
    const issuer = await loadOrCreateDevIssuer(server.tokens!);
    profileOnlyToken = await issuer.sign({ sub: BENCH_USERS[0].subject, name: BENCH_USERS[0].name, scope: 'read:profile' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (query: string, token: string) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });

  it('refuses an invalid token with 401 invalid_token, as the product does', async () => {
    const response = await post('{ me { displayName } }', 'not-a-token');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers fields the token has no scope for (no authorization layer)', async () => {
    const response = await post('{ me { displayName orders(first: 2) { edges { node { id } } } } }', profileOnlyToken);
    const body = (await response.json()) as { data?: { me?: { orders?: { edges: unknown[] } | null } }; errors?: unknown[] };
    expect(response.status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.me?.orders?.edges).toHaveLength(2);
  });
});
