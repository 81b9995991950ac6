import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'graphql';
import { InvalidOperationError, scopesForDocument, scopesForOperation } from '../../../src/authz/operation-scopes.js';
import { SCOPE_NAMES } from '../../../src/graphql/generated/scope-names.js';
import { type ScopesCliReport, runScopesCli } from '../../../src/cli/scopes-report-cli.js';
import { buildSchema } from '../../../src/graphql/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const { schema, index } = buildSchema();

const scopesOf = (query: string, operationName?: string, variables?: Record<string, unknown>) =>
  scopesForOperation(schema, index, parse(query), operationName, variables ? { variables } : {});

describe('scopes for an operation (real schema)', () => {
  it('needs read:profile and a user token for the caller’s display name', () => {
    expect(scopesOf('{ me { displayName } }')).toMatchObject({
      operationName: null,
      operationType: 'query',
      scopes: ['read:profile'],
      alternatives: [['read:profile']],
      authenticated: true,
      userToken: true,
      notes: [],
    });
  });

  it('combines every field: email, orders and their customer', () => {
    const result = scopesOf('{ me { email orders { edges { node { total { amount } customer { id } } } } } }');
    expect(result.scopes).toEqual(['read:email', 'read:orders', 'read:profile']);
    expect(result.userToken).toBe(true);
  });

  it('reports the cost the operation limits measure, with the variables when given', () => {
    // me 1 + connection 1 + n × (edge 1 + order 1 + 50 assumed items × (item 1 + product 1))
    const q = 'query Q($n: Int = 20) { me { orders(first: $n) { edges { node { items { product { name } } } } } } }';
    expect(scopesOf(q).cost).toBe(2 + 20 * 102);
    expect(scopesOf(q, undefined, { n: 3 }).cost).toBe(2 + 3 * 102);
    expect(scopesOf('{ me { displayName } }').cost).toBe(1);
  });

  it('needs no scope and no token for the public catalog', () => {
    const result = scopesOf('query Catalog { products { edges { node { name price { amount } } } } product(id: "x") { inStock } }');
    expect(result).toMatchObject({ operationName: 'Catalog', scopes: [], alternatives: [], authenticated: false, userToken: false, description: 'public' });
  });

  it('sees through named and inline fragments', () => {
    const result = scopesOf('query { me { ...P } } fragment P on Profile { ... on Profile { email } }');
    expect(result.scopes).toEqual(['read:email', 'read:profile']);
  });

  it('honours literal @skip and @include', () => {
    expect(scopesOf('{ products { edges { node { name } } } me @include(if: false) { id } }').scopes).toEqual([]);
    expect(scopesOf('{ products { edges { node { name } } } me @skip(if: true) { id } }').scopes).toEqual([]);
    expect(scopesOf('{ me @include(if: true) { id } }').scopes).toEqual(['read:profile']);
  });

  it('counts a field under a variable condition as included unless the variables are given', () => {
    const query = 'query ($mine: Boolean!) { products { edges { node { name } } } me @include(if: $mine) { id } }';
    const unknown = scopesOf(query);
    expect(unknown.scopes).toEqual(['read:profile']);
    expect(unknown.notes).toEqual([expect.stringContaining('@skip/@include')]);
    expect(scopesOf(query, undefined, { mine: false }).scopes).toEqual([]);
    expect(scopesOf(query, undefined, { mine: true }).scopes).toEqual(['read:profile']);
  });

  it('needs write:orders and a user token to place an order, read:orders to read it back', () => {
    const place = 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
    expect(scopesOf(place)).toMatchObject({ operationType: 'mutation', scopes: ['write:orders'], userToken: true });
    const readBack = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId order { status } } }';
    expect(scopesOf(readBack).scopes).toEqual(['read:orders', 'write:orders']);
  });

  it('needs any valid token without a user for the admin listing', () => {
    expect(scopesOf('{ orders { edges { node { id } } } }')).toMatchObject({ scopes: ['admin:orders', 'read:orders'], userToken: false });
  });

  it('through node(id:) combines every possible type and says so', () => {
    const result = scopesOf('query ($id: ID!) { node(id: $id) { id } }');
    expect(result.scopes).toEqual(['read:orders', 'read:profile']);
    expect(result.notes).toEqual([expect.stringContaining("through node(id:) the scopes depend on the ID's type")]);
    expect(scopesOf('query ($id: ID!) { node(id: $id) { ... on Product { name } } }').scopes).toEqual([]);
  });

  it('picks the named operation and analyses every operation of a document', () => {
    const document = 'query A { me { id } } query B { products { edges { cursor } } }';
    expect(scopesOf(document, 'B').scopes).toEqual([]);
    expect(scopesForDocument(schema, index, parse(document)).map((o) => [o.operationName, o.scopes])).toEqual([
      ['A', ['read:profile']],
      ['B', []],
    ]);
  });

  it('rejects an invalid document, listing every validation problem', () => {
    let error: unknown;
    try {
      scopesOf('{ me { nope } orders }');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPERATION' });
    expect((error as InvalidOperationError).problems).toHaveLength(2);
  });

  it('rejects an ambiguous or unknown operation name', () => {
    const document = 'query A { me { id } } query B { me { id } }';
    expect(() => scopesOf(document)).toThrow(InvalidOperationError);
    expect(() => scopesOf(document, 'C')).toThrow(InvalidOperationError);
  });
});

describe('generated scope names', () => {
  it('src/graphql/generated/scope-names.ts is what scripts/generate-scope-names.mjs generates now', async () => {
    const generator = ROOT + 'scripts/generate-scope-names.mjs';
    const { renderScopeNames } = (await import(generator)) as { renderScopeNames: (sdl: string) => string };
    const expected = renderScopeNames(await readFile(ROOT + 'schema/scopes.graphql', 'utf8'));
    // Stale: run `node scripts/generate-scope-names.mjs` and commit src/graphql/generated/scope-names.ts.
    expect(await readFile(ROOT + 'src/graphql/generated/scope-names.ts', 'utf8')).toBe(expected);
  });

  it('lists exactly the schema’s scope catalog', () => {
    expect([...SCOPE_NAMES]).toEqual(index.scopes.map((s) => s.name));
  });
});

describe('npm run scopes', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopes-cli-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runScopesCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
    return { code, stdout, stderr };
  }

  it('prints JSON for every operation of the file, in a child process', async () => {
    const file = join(dir, 'ops.graphql');
    await writeFile(file, 'query Me { me { displayName } }\nquery Catalog { products { edges { cursor } } }\n');
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/scopes-report-cli.ts', '--json', file], { cwd: ROOT });
    const report = JSON.parse(stdout) as ScopesCliReport;
    expect(report.file).toBe(file);
    expect(report.operations).toEqual([
      expect.objectContaining({ operationName: 'Me', scopes: ['read:profile'], userToken: true }),
      expect.objectContaining({ operationName: 'Catalog', scopes: [], userToken: false }),
    ]);
  });

  it('prints each operation with its scopes as text', async () => {
    const file = join(dir, 'text.graphql');
    await writeFile(file, 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }');
    const { code, stdout } = await run([file]);
    expect(code).toBe(0);
    expect(stdout).toContain('mutation Place\n  scopes: write:orders\n');
  });

  it('prints the schema report with --schema', async () => {
    const { code, stdout } = await run(['--schema']);
    expect(code).toBe(0);
    expect(stdout).toContain('Query.me');
  });

  it('prints usage with --help', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage:') });
  });

  it('exits 2 with a message on stderr for a missing file, a syntax error or an invalid operation', async () => {
    expect(await run([join(dir, 'missing.graphql')])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('no such file') });
    const syntax = join(dir, 'syntax.graphql');
    await writeFile(syntax, '{ me {');
    expect(await run([syntax])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Syntax Error') });
    const invalid = join(dir, 'invalid.graphql');
    await writeFile(invalid, '{ me { nope } }');
    expect(await run([invalid])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('"nope"') });
  });

  it('exits 2 on bad arguments', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--schema', 'x.graphql'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
  });
});
