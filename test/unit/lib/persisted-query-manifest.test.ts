import { parse, print } from 'graphql';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { ManifestError, parsePersistedQueryManifest } from '../../../src/lib/persisted-query-manifest.js';
import { manifestEntry, manifestText, sha256, writeManifest } from '../../fixtures/persisted-documents.js';

const ME = manifestEntry('Me', 'query', 'query Me { me { displayName } }');
const PLACE = manifestEntry('Place', 'mutation', 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }');

function problem(text: string): { message: string; index?: number; field?: string } {
  try {
    parsePersistedQueryManifest(text);
  } catch (error) {
    if (error instanceof ManifestError) return { message: error.message, ...(error.index === undefined ? {} : { index: error.index }), ...(error.field === undefined ? {} : { field: error.field }) };
    throw error;
  }
  throw new Error('the manifest was accepted');
}

describe('persisted query manifest', () => {
  it('accepts what @apollo/generate-persisted-query-manifest writes, in order and by id', () => {
    const manifest = parsePersistedQueryManifest(manifestText([ME, PLACE]));
    expect(manifest.operations).toMatchObject([ME, PLACE]);
    // Parsed once, here: start-up analysis reuses the document.
    expect(print(manifest.operations[0]!.document)).toBe(print(parse(ME.body)));
    expect(manifest.byId.get(PLACE.id)).toMatchObject(PLACE);
  });

  it('accepts an operation with its fragments and ignores members it does not know', () => {
    const body = 'query Mine { me { ...Who } }\nfragment Who on Profile { displayName }';
    const manifest = parsePersistedQueryManifest(manifestText([{ ...manifestEntry('Mine', 'query', body), clientName: 'web' }]));
    expect(manifest.operations[0]).toMatchObject(manifestEntry('Mine', 'query', body));
  });

  it('accepts an empty list', () => {
    expect(parsePersistedQueryManifest(manifestText([])).operations).toEqual([]);
  });

  it.each([
    ['not JSON', '{ "format": ', undefined],
    ['not an object', '[]', undefined],
    ['another format', JSON.stringify({ format: 'relay', version: 1, operations: [] }), undefined],
    ['another version', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), undefined],
    ['no operations list', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: {} }), undefined],
  ])('refuses a file that is %s', (_what, text, index) => {
    expect(problem(text).index).toBe(index);
  });

  it.each([
    ['an entry that is not an object', ['query'], 'n/a'],
    ['an id that is not the SHA-256 of the body', [{ ...ME, id: sha256('query Me { me { id } }') }], 'id'],
    ['an uppercase id', [{ ...ME, id: ME.id.toUpperCase() }], 'id'],
    ['a missing name', [{ ...ME, name: undefined }], 'name'],
    ['a name other than the operation’s', [{ ...ME, name: 'Other' }], 'name'],
    ['an unknown type', [{ ...ME, type: 'fragment' }], 'type'],
    ['a type other than the operation’s', [{ ...ME, type: 'mutation' }], 'type'],
    ['a body that does not parse', [manifestEntry('Me', 'query', 'query Me { me {')], 'body'],
    ['a body with two operations', [manifestEntry('Me', 'query', 'query Me { me { id } } query You { me { id } }')], 'body'],
    ['an empty body', [{ ...ME, body: '' }], 'body'],
  ])('refuses %s, naming the entry and the member', (_what, operations, field) => {
    const found = problem(manifestText([PLACE, ...operations]));
    expect(found.index).toBe(1);
    expect(found.field).toBe(field === 'n/a' ? undefined : field);
  });

  it('refuses an id listed twice, naming the second entry, the first and the operation', () => {
    const found = problem(manifestText([ME, PLACE, ME]));
    expect(found).toMatchObject({ index: 2, field: 'id' });
    expect(found.message).toContain('operations[0]');
    expect(found.message).toContain('"Me"');
  });
});

describe('trusted documents configuration', () => {
  const ROOT = '/srv/app';
  const configError = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig(env, ROOT);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('the configuration was accepted');
  };

  it('defaults to off, no manifest, no bypass scope and Apollo’s 30 MiB APQ cache', () => {
    expect(loadConfig({}, ROOT).persistedDocuments).toEqual({ mode: 'off', manifest: undefined, bypassScope: undefined, apqCacheBytes: 30 * 1024 * 1024 });
  });

  it('reads and validates the manifest file, with the mode, the bypass scope and the APQ size', () => {
    const file = writeManifest([ME]);
    const settings = loadConfig({ PERSISTED_DOCUMENTS_FILE: file, PERSISTED_DOCUMENTS_MODE: 'enforce', PERSISTED_DOCUMENTS_BYPASS_SCOPE: 'internal:any-operation', APQ_CACHE_BYTES: '0' }, ROOT).persistedDocuments;
    expect(settings).toMatchObject({ mode: 'enforce', bypassScope: 'internal:any-operation', apqCacheBytes: 0 });
    expect(settings.manifest?.byId.get(ME.id)?.name).toBe('Me');
  });

  it('names the variable, the entry and the member of an invalid manifest', () => {
    const error = configError({ PERSISTED_DOCUMENTS_FILE: writeManifest([ME, { ...PLACE, id: ME.id }]) });
    expect(error).toMatchObject({ variable: 'PERSISTED_DOCUMENTS_FILE', index: 1, field: 'id' });
    expect(error.message).toMatch(/^PERSISTED_DOCUMENTS_FILE\[1\]\.id: /);
  });

  it.each([
    ['a file that is not JSON', { PERSISTED_DOCUMENTS_FILE: writeManifest('not json') }, 'PERSISTED_DOCUMENTS_FILE'],
    ['a file that does not exist', { PERSISTED_DOCUMENTS_FILE: '/nonexistent/manifest.json' }, 'PERSISTED_DOCUMENTS_FILE'],
    ['audit without a manifest', { PERSISTED_DOCUMENTS_MODE: 'audit' }, 'PERSISTED_DOCUMENTS_FILE'],
    ['enforce without a manifest', { PERSISTED_DOCUMENTS_MODE: 'enforce' }, 'PERSISTED_DOCUMENTS_FILE'],
    ['an unknown mode', { PERSISTED_DOCUMENTS_MODE: 'strict' }, 'PERSISTED_DOCUMENTS_MODE'],
    ['a bypass scope with a space', { PERSISTED_DOCUMENTS_BYPASS_SCOPE: 'a b' }, 'PERSISTED_DOCUMENTS_BYPASS_SCOPE'],
    ['a negative APQ size', { APQ_CACHE_BYTES: '-1' }, 'APQ_CACHE_BYTES'],
  ])('refuses %s, naming the variable', (_what, env, variable) => {
    expect(configError(env).variable).toBe(variable);
  });
});
