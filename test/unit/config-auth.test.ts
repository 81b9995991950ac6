import { describe, expect, it } from '@jest/globals';
import { setUpTokenVerification } from '../../src/auth/issuers/configured-verifier.js';
import { ConfigError, loadConfig, trustedIssuers } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';

const ROOT = '/srv/app';
const BASE = { OAUTH_AUDIENCE: 'https://api.example.com' };

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, ROOT);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const issuers = (entries: unknown) => ({ ...BASE, OAUTH_ISSUERS: JSON.stringify(entries) });

describe('configuration: introspection (RFC 7662)', () => {
  it('enables introspection with client credentials; endpoint discovered unless given', () => {
    const c = loadConfig({ ...BASE, OAUTH_ISSUER: 'https://as.example.com', OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 'secret' }, ROOT);
    expect(trustedIssuers(c.auth.issuer)[0]!.introspection).toEqual({ url: undefined, clientId: 'rs', clientSecret: 'secret', introspectAll: false });
    expect(c.auth.introspectionCacheTtlSec).toBe(60);
    expect(c.auth.introspectionTimeoutMs).toBe(5000);
    expect(c.sharedCache).toEqual({ kind: 'memory' });
  });

  it('reads OAUTH_INTROSPECT_ALL, OAUTH_INTROSPECTION_URL and OAUTH_INTROSPECTION_CACHE_TTL', () => {
    const c = loadConfig(
      { ...BASE, OAUTH_ISSUER: 'https://as.example.com', OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 'secret', OAUTH_INTROSPECT_ALL: 'true', OAUTH_INTROSPECTION_URL: 'https://as.example.com/introspect', OAUTH_INTROSPECTION_CACHE_TTL: '30' },
      ROOT,
    );
    expect(trustedIssuers(c.auth.issuer)[0]!.introspection).toMatchObject({ url: 'https://as.example.com/introspect', introspectAll: true });
    expect(c.auth.introspectionCacheTtlSec).toBe(30);
  });

  it.each([
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_INTROSPECT_ALL: 'true' }, 'OAUTH_INTROSPECT_ALL'],
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 's', OAUTH_INTROSPECT_ALL: 'yes' }, 'OAUTH_INTROSPECT_ALL'],
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_INTROSPECTION_CACHE_TTL: '-1' }, 'OAUTH_INTROSPECTION_CACHE_TTL'],
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_INTROSPECTION_CACHE_TTL: '86400' }, 'OAUTH_INTROSPECTION_CACHE_TTL'],
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_INTROSPECTION_URL: 'https://as.example.com/i' }, 'OAUTH_CLIENT_ID'],
    [{ OAUTH_ISSUER: 'https://as.example.com?x=1' }, 'OAUTH_ISSUER'],
  ])('stops start-up on %j, naming %s', (env, variable) => {
    expect(failure({ ...BASE, ...env }).variable).toBe(variable);
  });

  it('never echoes the client secret', () => {
    const error = failure({ ...BASE, OAUTH_ISSUER: 'https://as.example.com', OAUTH_CLIENT_SECRET: 'hunter2-secret' });
    expect(error.variable).toBe('OAUTH_CLIENT_ID');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('configuration: Redis', () => {
  it('shares caches through Redis when REDIS_URL is set', () => {
    expect(loadConfig({ ...BASE, REDIS_URL: 'redis://:pw@127.0.0.1:6379/2' }, ROOT).sharedCache).toEqual({ kind: 'redis', url: 'redis://:pw@127.0.0.1:6379/2', keyPrefix: 'orders-rs:' });
    expect(loadConfig({ ...BASE, REDIS_URL: 'rediss://cache.internal', REDIS_KEY_PREFIX: 'prod:eu:' }, ROOT).sharedCache).toMatchObject({ keyPrefix: 'prod:eu:' });
  });

  it.each([
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://:topsecret@[bad' }, 'REDIS_URL'],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'REDIS_KEY_PREFIX'],
  ])('stops start-up on %j, naming %s, without echoing it', (env, variable) => {
    const error = failure({ ...BASE, ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain('topsecret');
  });
});

describe('configuration: several trusted issuers (OAUTH_ISSUERS)', () => {
  it('reads each entry, with OAUTH_AUDIENCE, OAUTH_ALGORITHMS and OAUTH_TOKEN_TYPES as defaults', () => {
    const c = loadConfig(
      {
        ...issuers([
          { issuer: 'https://a.example.com' },
          { issuer: 'https://b.example.com/tenant', audience: ['api://orders', 'https://api.example.com'], algorithms: ['ES256'], tokenTypes: ['JWT'], requiredClaims: ['iss', 'exp', 'aud', 'sub'], jwksUri: 'https://b.example.com/keys', scopeMap: { convention: 'resource:verb' } },
        ]),
        OAUTH_TOKEN_TYPES: 'at+jwt,JWT',
      },
      ROOT,
    );
    expect(c.auth.issuer.kind).toBe('multiple');
    const [a, b] = trustedIssuers(c.auth.issuer);
    expect(a).toMatchObject({ issuer: 'https://a.example.com', audience: ['https://api.example.com'], tokenTypes: ['at+jwt', 'JWT'], jwksUri: undefined, introspection: undefined });
    expect(a!.algorithms).toContain('RS256');
    expect(b).toMatchObject({ audience: ['api://orders', 'https://api.example.com'], algorithms: ['ES256'], tokenTypes: ['JWT'], requiredClaims: ['iss', 'exp', 'aud', 'sub'], jwksUri: 'https://b.example.com/keys', scopeMap: { convention: 'resource:verb' } });
  });

  it('introspects with the marked entry only', () => {
    const c = loadConfig({ ...issuers([{ issuer: 'https://a.example.com' }, { issuer: 'https://b.example.com', introspection: true }]), OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 's' }, ROOT);
    expect(trustedIssuers(c.auth.issuer).map((i) => i.introspection?.clientId)).toEqual([undefined, 'rs']);
  });

  it.each<[string, unknown, Record<string, string>, { variable: string; index?: number; field?: string }]>([
    ['not JSON', undefined, { OAUTH_ISSUERS: '[{' }, { variable: 'OAUTH_ISSUERS' }],
    ['not an array', { issuer: 'https://a.example.com' }, {}, { variable: 'OAUTH_ISSUERS' }],
    ['an empty array', [], {}, { variable: 'OAUTH_ISSUERS' }],
    ['an entry that is not an object', [{ issuer: 'https://a.example.com' }, 'https://b.example.com'], {}, { variable: 'OAUTH_ISSUERS', index: 1 }],
    ['a missing issuer', [{ issuer: 'https://a.example.com' }, { audience: 'x' }], {}, { variable: 'OAUTH_ISSUERS', index: 1, field: 'issuer' }],
    ['a plain-http issuer', [{ issuer: 'http://a.example.com' }], {}, { variable: 'OAUTH_ISSUERS', index: 0, field: 'issuer' }],
    ['a duplicate issuer', [{ issuer: 'https://a.example.com' }, { issuer: 'https://a.example.com' }], {}, { variable: 'OAUTH_ISSUERS', index: 1, field: 'issuer' }],
    ['an unknown member', [{ issuer: 'https://a.example.com', audiences: ['x'] }], {}, { variable: 'OAUTH_ISSUERS', index: 0, field: 'audiences' }],
    ['an HMAC algorithm', [{ issuer: 'https://a.example.com' }, { issuer: 'https://b.example.com', algorithms: ['HS256'] }], {}, { variable: 'OAUTH_ISSUERS', index: 1, field: 'algorithms' }],
    ['empty token types', [{ issuer: 'https://a.example.com', tokenTypes: [] }], {}, { variable: 'OAUTH_ISSUERS', index: 0, field: 'tokenTypes' }],
    ['a bad scope map', [{ issuer: 'https://a.example.com', scopeMap: { convention: 'x' } }], {}, { variable: 'OAUTH_ISSUERS', index: 0, field: 'scopeMap' }],
    ['a bad jwksUri', [{ issuer: 'https://a.example.com', jwksUri: 'ftp://a.example.com/keys' }], {}, { variable: 'OAUTH_ISSUERS', index: 0, field: 'jwksUri' }],
    ['two introspecting entries', [{ issuer: 'https://a.example.com', introspection: true }, { issuer: 'https://b.example.com', introspection: true }], { OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 's' }, { variable: 'OAUTH_ISSUERS', index: 1, field: 'introspection' }],
    ['credentials without a marked entry', [{ issuer: 'https://a.example.com' }, { issuer: 'https://b.example.com' }], { OAUTH_CLIENT_ID: 'rs', OAUTH_CLIENT_SECRET: 's' }, { variable: 'OAUTH_ISSUERS' }],
    ['a marked entry without credentials', [{ issuer: 'https://a.example.com', introspection: true }], {}, { variable: 'OAUTH_CLIENT_ID' }],
    ['OAUTH_ISSUER as well', [{ issuer: 'https://a.example.com' }], { OAUTH_ISSUER: 'https://a.example.com' }, { variable: 'OAUTH_ISSUERS' }],
    ['OAUTH_JWKS_URI as well', [{ issuer: 'https://a.example.com' }], { OAUTH_JWKS_URI: 'https://a.example.com/keys' }, { variable: 'OAUTH_JWKS_URI' }],
    ['OAUTH_SCOPE_MAP as well', [{ issuer: 'https://a.example.com' }], { OAUTH_SCOPE_MAP: '{}' }, { variable: 'OAUTH_SCOPE_MAP' }],
  ])('stops start-up on %s, naming the variable and the entry', (_name, entries, extra, expected) => {
    const env = { ...(entries === undefined ? BASE : issuers(entries)), ...extra };
    expect(failure(env)).toMatchObject({ index: undefined, field: undefined, ...expected });
  });

  it('lets OAUTH_ISSUERS satisfy production', () => {
    const env = { NODE_ENV: 'production', CURSOR_SECRET: Buffer.alloc(32, 1).toString('base64'), ...issuers([{ issuer: 'https://a.example.com' }]) };
    expect(loadConfig(env, ROOT).auth.issuer.kind).toBe('multiple');
  });
});

describe('configuration: OAUTH_SCOPE_MAP', () => {
  it('is read for OAUTH_ISSUER', () => {
    const c = loadConfig({ ...BASE, OAUTH_ISSUER: 'https://as.example.com', OAUTH_SCOPE_MAP: '{"convention":"resource:verb","prefixes":["https://api.example.com/"]}' }, ROOT);
    expect(trustedIssuers(c.auth.issuer)[0]!.scopeMap).toEqual({ convention: 'resource:verb', prefixes: ['https://api.example.com/'] });
  });

  it.each(['not json', '[]', '{"convention":"nope"}', '{"aliases":{"a":["b"]}}'])('refuses %s, naming OAUTH_SCOPE_MAP', (value) => {
    expect(failure({ ...BASE, OAUTH_ISSUER: 'https://as.example.com', OAUTH_SCOPE_MAP: value }).variable).toBe('OAUTH_SCOPE_MAP');
  });
});

describe('scope maps checked against the schema at start-up', () => {
  const CATALOG = ['read:orders', 'write:orders'];
  const setUp = (env: Record<string, string>) => {
    const config = loadConfig({ ...BASE, ...env }, ROOT);
    return setUpTokenVerification({ auth: config.auth, sharedCache: config.sharedCache, catalog: CATALOG, log: silentLogger });
  };

  it('stops start-up on an alias to a scope the schema does not define, naming the variable', () => {
    expect(() => setUp({ OAUTH_ISSUER: 'https://as.example.com', OAUTH_SCOPE_MAP: '{"aliases":{"orders.read":"read:order"}}' })).toThrow(
      expect.objectContaining({ name: 'ConfigError', variable: 'OAUTH_SCOPE_MAP' }),
    );
    expect(() => setUp(issuers([{ issuer: 'https://a.example.com' }, { issuer: 'https://b.example.com', scopeMap: { aliases: { x: 'admin:everything' } } }]))).toThrow(
      expect.objectContaining({ variable: 'OAUTH_ISSUERS', index: 1, field: 'scopeMap' }),
    );
  });
});

describe('configuration: token age, token cache and DPoP replay cache bounds', () => {
  it('defaults: no maximum token age, verified tokens remembered at most 300 s, 100000 proof ids (10000 per key)', () => {
    const c = loadConfig(BASE, ROOT);
    expect(c.auth).toMatchObject({ maxTokenAgeSec: undefined, tokenCacheMaxTtlSec: 300, dpopReplayCacheMaxEntries: 100_000, dpopReplayCacheMaxEntriesPerKey: 10_000 });
  });

  it('reads OAUTH_MAX_TOKEN_AGE, OAUTH_TOKEN_CACHE_MAX_TTL and the DPOP_REPLAY_CACHE_* bounds', () => {
    const c = loadConfig({ ...BASE, OAUTH_MAX_TOKEN_AGE: '3600', OAUTH_TOKEN_CACHE_MAX_TTL: '0', DPOP_REPLAY_CACHE_MAX_ENTRIES: '50', DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY: '50' }, ROOT);
    expect(c.auth).toMatchObject({ maxTokenAgeSec: 3600, tokenCacheMaxTtlSec: 0, dpopReplayCacheMaxEntries: 50, dpopReplayCacheMaxEntriesPerKey: 50 });
    expect(loadConfig({ ...BASE, DPOP_REPLAY_CACHE_MAX_ENTRIES: '50' }, ROOT).auth.dpopReplayCacheMaxEntriesPerKey).toBe(5);
  });

  it.each([
    [{ OAUTH_MAX_TOKEN_AGE: '0' }, 'OAUTH_MAX_TOKEN_AGE'],
    [{ OAUTH_MAX_TOKEN_AGE: '1h' }, 'OAUTH_MAX_TOKEN_AGE'],
    [{ OAUTH_TOKEN_CACHE_MAX_TTL: '86401' }, 'OAUTH_TOKEN_CACHE_MAX_TTL'],
    [{ DPOP_REPLAY_CACHE_MAX_ENTRIES: '0' }, 'DPOP_REPLAY_CACHE_MAX_ENTRIES'],
    [{ DPOP_REPLAY_CACHE_MAX_ENTRIES: '10', DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY: '11' }, 'DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY'],
  ])('stops start-up on %j, naming %s', (env, variable) => {
    expect(failure({ ...BASE, ...env }).variable).toBe(variable);
  });
});
