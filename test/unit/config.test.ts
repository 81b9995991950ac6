import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';

const ROOT = '/srv/app';
const variableOf = (env: Record<string, string>): string | undefined => {
  try {
    loadConfig(env, ROOT);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.variable;
    throw e;
  }
};

describe('configuration', () => {
  it('defaults to the embedded database and the development issuer', () => {
    const c = loadConfig({}, ROOT);
    expect(c.database).toEqual({ kind: 'sqlite', filename: '/srv/app/data/app.db' });
    expect(c.auth.issuer).toMatchObject({ kind: 'development', issuer: 'http://127.0.0.1:4000/dev-issuer', keyFile: '/srv/app/data/dev-issuer-key.json' });
    expect(c.auth.audience).toBe('http://127.0.0.1:4000/graphql');
    expect(c.authorization.mode).toBe('filter');
    expect(c.graphql.productCacheEntries).toBe(10_000);
    expect(loadConfig({ PRODUCT_CACHE_ENTRIES: '0' }, ROOT).graphql.productCacheEntries).toBe(0);
  });

  it('refuses to start in production without OAUTH_ISSUER, naming it', () => {
    expect(variableOf({ NODE_ENV: 'production', OAUTH_AUDIENCE: 'https://api.example.com' })).toBe('OAUTH_ISSUER');
  });

  it('requires OAUTH_AUDIENCE in production', () => {
    expect(variableOf({ NODE_ENV: 'production', OAUTH_ISSUER: 'https://tenant.auth0.com/' })).toBe('OAUTH_AUDIENCE');
  });

  describe('CURSOR_SECRET', () => {
    const PRODUCTION = { NODE_ENV: 'production', OAUTH_ISSUER: 'https://tenant.auth0.com/', OAUTH_AUDIENCE: 'https://api.example.com' };
    const secret = Buffer.alloc(32, 0xfb);

    it('is required in production, so that every replica and restart accepts the same cursors', () => {
      expect(variableOf(PRODUCTION)).toBe('CURSOR_SECRET');
      expect(loadConfig({ ...PRODUCTION, CURSOR_SECRET: secret.toString('base64') }, ROOT).cursorSecret).toEqual(secret);
    });

    it('is optional elsewhere: unset means a random secret per process', () => {
      expect(loadConfig({}, ROOT).cursorSecret).toBeUndefined();
      expect(loadConfig({ NODE_ENV: 'test' }, ROOT).cursorSecret).toBeUndefined();
    });

    it('reads base64 and base64url of 32 bytes or more', () => {
      expect(loadConfig({ CURSOR_SECRET: secret.toString('base64url') }, ROOT).cursorSecret).toEqual(secret);
      const long = Buffer.alloc(64, 0x3e);
      expect(loadConfig({ CURSOR_SECRET: long.toString('base64') }, ROOT).cursorSecret).toEqual(long);
    });

    it.each([
      ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
      ['not base64', 'correct horse battery staple, but longer than 32 chars'],
      ['hex of 16 bytes', 'ab'.repeat(16)],
    ])('refuses %s, naming the variable without repeating the value', (_, value) => {
      let error: unknown;
      try {
        loadConfig({ CURSOR_SECRET: value }, ROOT);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('CURSOR_SECRET');
      expect((error as ConfigError).message).not.toContain(value);
    });
  });

  it('keeps the issuer exactly as configured, trailing slash included', () => {
    const c = loadConfig({ OAUTH_ISSUER: 'https://tenant.eu.auth0.com/', OAUTH_AUDIENCE: 'https://api.example.com' }, ROOT);
    expect(c.auth.issuer).toMatchObject({ kind: 'external', issuer: 'https://tenant.eu.auth0.com/' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ OAUTH_ISSUER: 'not a url' }, 'OAUTH_ISSUER'],
    [{ OAUTH_ISSUER: 'http://as.example.com' }, 'OAUTH_ISSUER'],
    [{ OAUTH_ALGORITHMS: 'RS256,HS256' }, 'OAUTH_ALGORITHMS'],
    [{ OAUTH_ALGORITHMS: 'none' }, 'OAUTH_ALGORITHMS'],
    [{ AUTHZ_MODE: 'off' }, 'AUTHZ_MODE'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL'],
    [{ OAUTH_CLOCK_TOLERANCE: '9999' }, 'OAUTH_CLOCK_TOLERANCE'],
    [{ OAUTH_ISSUER: 'https://as.example.com', OAUTH_CLIENT_ID: 'rs' }, 'OAUTH_CLIENT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ GRAPHQL_EXECUTOR: 'fast' }, 'GRAPHQL_EXECUTOR'],
    [{ PRODUCT_CACHE_ENTRIES: '-1' }, 'PRODUCT_CACHE_ENTRIES'],
    [{ PRODUCT_CACHE_ENTRIES: '2000000' }, 'PRODUCT_CACHE_ENTRIES'],
    [{ PRODUCT_CACHE_ENTRIES: 'many' }, 'PRODUCT_CACHE_ENTRIES'],
  ])('stops start-up on %j, naming %s', (env, variable) => {
    expect(variableOf(env as Record<string, string>)).toBe(variable);
  });

  it('never echoes a database password in its error', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://user:s3cret@[bad' }, ROOT);
    } catch (e) {
      expect(String(e)).not.toContain('s3cret');
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('selects PostgreSQL for a postgres:// URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, ROOT).database).toMatchObject({ kind: 'postgres', poolSize: 10 });
  });
});
