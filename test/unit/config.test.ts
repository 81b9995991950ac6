import { describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError, isLoopbackHost, loadConfig } from '../../src/config.js';

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
    expect(c.database).toEqual({ kind: 'sqlite', filename: '/srv/app/data/app.db', busyTimeoutMs: 5000 });
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
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, ROOT).database).toMatchObject({ kind: 'postgres', poolSize: 10, preparedStatements: true });
  });

  it('turns named prepared statements off with DATABASE_PREPARED_STATEMENTS=false and refuses other values', () => {
    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
    expect(loadConfig({ ...env, DATABASE_PREPARED_STATEMENTS: 'false' }, ROOT).database).toMatchObject({ preparedStatements: false });
    expect(() => loadConfig({ ...env, DATABASE_PREPARED_STATEMENTS: 'no' }, ROOT)).toThrow(expect.objectContaining({ variable: 'DATABASE_PREPARED_STATEMENTS' }));
  });

  it('bounds how long a request waits for the database: pool, statement and lock timeouts with defaults', () => {
    const pg = 'postgres://postgres@127.0.0.1:5432/test';
    expect(loadConfig({ DATABASE_URL: pg }, ROOT).database).toMatchObject({ connectTimeoutMs: 5000, statementTimeoutMs: 15_000 });
    expect(loadConfig({ DATABASE_URL: pg, DATABASE_CONNECT_TIMEOUT_MS: '750', DATABASE_STATEMENT_TIMEOUT_MS: '3000' }, ROOT).database).toMatchObject({ connectTimeoutMs: 750, statementTimeoutMs: 3000 });
    expect(loadConfig({ DATABASE_BUSY_TIMEOUT_MS: '250' }, ROOT).database).toMatchObject({ kind: 'sqlite', busyTimeoutMs: 250 });
    expect(variableOf({ DATABASE_URL: pg, DATABASE_CONNECT_TIMEOUT_MS: '0' })).toBe('DATABASE_CONNECT_TIMEOUT_MS');
    expect(variableOf({ DATABASE_URL: pg, DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toBe('DATABASE_STATEMENT_TIMEOUT_MS');
    expect(variableOf({ DATABASE_BUSY_TIMEOUT_MS: '-1' })).toBe('DATABASE_BUSY_TIMEOUT_MS');
  });

  it('reads the key set cooldown and cache age, with defaults', () => {
    expect(loadConfig({}, ROOT).auth).toMatchObject({ jwksCooldownMs: 30_000, jwksCacheMaxAgeMs: 600_000 });
    expect(loadConfig({ OAUTH_JWKS_COOLDOWN_MS: '500', OAUTH_JWKS_CACHE_MAX_AGE_MS: '2000' }, ROOT).auth).toMatchObject({ jwksCooldownMs: 500, jwksCacheMaxAgeMs: 2000 });
    expect(variableOf({ OAUTH_JWKS_COOLDOWN_MS: '10' })).toBe('OAUTH_JWKS_COOLDOWN_MS');
    expect(variableOf({ OAUTH_JWKS_CACHE_MAX_AGE_MS: 'x' })).toBe('OAUTH_JWKS_CACHE_MAX_AGE_MS');
  });
});

describe('HTTP limits configuration', () => {
  it('defaults to deadlines and sizes that ordinary clients stay within', () => {
    expect(loadConfig({}, ROOT).http).toEqual({
      bodyLimitBytes: 1024 * 1024,
      maxHeaderBytes: 32 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      keepAliveTimeoutMs: 72_000,
      maxConnections: 4096,
    });
    expect(loadConfig({}, ROOT).graphql.batchMax).toBe(0);
  });

  it('reads each limit from its variable', () => {
    const c = loadConfig(
      { HTTP_BODY_LIMIT_BYTES: '4096', HTTP_MAX_HEADER_BYTES: '65536', HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_IDLE_TIMEOUT_MS: '3000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '4000', HTTP_MAX_CONNECTIONS: '100', GRAPHQL_BATCH_MAX: '10' },
      ROOT,
    );
    expect(c.http).toEqual({ bodyLimitBytes: 4096, maxHeaderBytes: 65536, headersTimeoutMs: 2000, requestTimeoutMs: 5000, idleTimeoutMs: 3000, keepAliveTimeoutMs: 4000, maxConnections: 100 });
    expect(c.graphql.batchMax).toBe(10);
  });

  it.each([
    [{ HTTP_BODY_LIMIT_BYTES: '10' }, 'HTTP_BODY_LIMIT_BYTES'],
    [{ HTTP_MAX_HEADER_BYTES: '1024' }, 'HTTP_MAX_HEADER_BYTES'],
    [{ HTTP_HEADERS_TIMEOUT_MS: 'soon' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ HTTP_IDLE_TIMEOUT_MS: '0' }, 'HTTP_IDLE_TIMEOUT_MS'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '-1' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'],
    [{ HTTP_MAX_CONNECTIONS: '0' }, 'HTTP_MAX_CONNECTIONS'],
    [{ GRAPHQL_BATCH_MAX: '5000' }, 'GRAPHQL_BATCH_MAX'],
    [{ DEV_LANDING_TOKEN: 'yes' }, 'DEV_LANDING_TOKEN'],
  ])('stops start-up on %j, naming %s', (env, variable) => {
    expect(variableOf(env as Record<string, string>)).toBe(variable);
  });

  it('hides schema details from client errors in production only', () => {
    expect(loadConfig({ NODE_ENV: 'production', OAUTH_ISSUER: 'https://as.example.com/', OAUTH_AUDIENCE: 'https://api.example.com', CURSOR_SECRET: Buffer.alloc(32, 7).toString('base64') }, ROOT).graphql.hideSchemaDetails).toBe(true);
    expect(loadConfig({}, ROOT).graphql.hideSchemaDetails).toBe(false);
  });
});

describe('development landing page token', () => {
  it('is embedded by default only when HOST is a loopback address', () => {
    expect(loadConfig({}, ROOT).devLandingToken).toBe(true);
    expect(loadConfig({ HOST: '127.0.0.1' }, ROOT).devLandingToken).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0' }, ROOT).devLandingToken).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', DEV_LANDING_TOKEN: 'true' }, ROOT).devLandingToken).toBe(true);
    expect(loadConfig({ HOST: 'localhost', DEV_LANDING_TOKEN: 'false' }, ROOT).devLandingToken).toBe(false);
  });

  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['10.0.0.1', false],
    ['fe80::1', false],
    ['example.com', false],
    ['127.example.com', false],
  ])('treats %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('public URL', () => {
  it.each([
    ['the default host', {}, 'http://127.0.0.1:4000'],
    ['a non-default PORT', { PORT: '5000' }, 'http://127.0.0.1:5000'],
    ['a host name', { HOST: 'localhost' }, 'http://localhost:4000'],
    ['the IPv4 wildcard', { HOST: '0.0.0.0' }, 'http://127.0.0.1:4000'],
    ['the IPv6 wildcard', { HOST: '::' }, 'http://127.0.0.1:4000'],
    ['the IPv6 loopback, bracketed', { HOST: '::1' }, 'http://[::1]:4000'],
    ['another IPv6 literal, bracketed', { HOST: 'fe80::1', PORT: '8080' }, 'http://[fe80::1]:8080'],
    ['an already bracketed IPv6 literal', { HOST: '[::1]' }, 'http://[::1]:4000'],
    ['PUBLIC_URL, trailing slashes removed', { HOST: '::', PUBLIC_URL: 'https://api.example/' }, 'https://api.example'],
  ])('derives from %s', (_name, env, expected) => {
    const c = loadConfig(env as Record<string, string>, ROOT);
    expect(c.publicUrl).toBe(expected);
    // The development issuer and the default audience derive from the same URL.
    expect(c.auth.issuer).toMatchObject({ kind: 'development', issuer: `${expected}/dev-issuer` });
    expect(c.auth.audience).toBe(`${expected}/graphql`);
    expect(() => new URL(c.publicUrl)).not.toThrow();
  });
});

describe('DATABASE_URL', () => {
  it.each(['sqlite::memory:', ':memory:', 'file::memory:'])('reads %s as an in-memory SQLite database, not a file', (value) => {
    expect(loadConfig({ DATABASE_URL: value }, ROOT).database).toEqual({ kind: 'sqlite', filename: ':memory:', busyTimeoutMs: 5000 });
  });

  it.each([
    ['sqlite:data/x.db', path.resolve('data/x.db')],
    ['file:///var/lib/app/x.db', '/var/lib/app/x.db'],
    ['/var/lib/app/x.db', '/var/lib/app/x.db'],
  ])('reads %s as the SQLite file %s', (value, filename) => {
    expect(loadConfig({ DATABASE_URL: value }, ROOT).database).toEqual({ kind: 'sqlite', filename, busyTimeoutMs: 5000 });
  });

  it.each(['sqlite:', 'postgres://user:hunter2@', 'redis://:hunter2@cache:6379'])('stops start-up on %s, naming DATABASE_URL without the password', (value) => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: value }, ROOT);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('DATABASE_URL');
    expect((error as ConfigError).message).not.toContain('hunter2');
  });
});

describe('WORKERS', () => {
  it('defaults to one worker per core and reads WORKERS', () => {
    expect(loadConfig({}, ROOT).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: '3' }, ROOT).workers).toBe(3);
  });

  it.each(['0', '1000', 'two', '-1', '1.5'])('stops start-up on WORKERS=%s, naming it', (value) => {
    expect(variableOf({ WORKERS: value })).toBe('WORKERS');
  });
});

/** What `npm run token` signs with and for when no server has recorded its own (see test/e2e/development-mode.test.ts). */
describe('development issuer settings', () => {
  it.each<[string, Record<string, string>, { keyFile: string; issuer: string; audience: string }]>([
    [
      'defaults',
      {},
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    ['PORT', { PORT: '8080' }, { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:8080/dev-issuer', audience: 'http://127.0.0.1:8080/graphql' }],
    [
      'PUBLIC_URL wins over PORT, trailing slash removed',
      { PORT: '8080', PUBLIC_URL: 'https://api.example/' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'https://api.example/dev-issuer', audience: 'https://api.example/graphql' },
    ],
    [
      'OAUTH_AUDIENCE',
      { OAUTH_AUDIENCE: 'urn:orders-api' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'urn:orders-api' },
    ],
    [
      'relative DEV_ISSUER_KEY_FILE resolves against the project root',
      { DEV_ISSUER_KEY_FILE: 'secrets/key.json' },
      { keyFile: '/srv/app/secrets/key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'absolute DEV_ISSUER_KEY_FILE',
      { DEV_ISSUER_KEY_FILE: '/tmp/k.json' },
      { keyFile: '/tmp/k.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'DATA_DIR and HOST, as the server config reads them',
      { DATA_DIR: 'var', HOST: 'localhost', PORT: '5000' },
      { keyFile: '/srv/app/var/dev-issuer-key.json', issuer: 'http://localhost:5000/dev-issuer', audience: 'http://localhost:5000/graphql' },
    ],
    [
      'a wildcard HOST is reached through 127.0.0.1',
      { HOST: '0.0.0.0' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'DEV_ISSUER_KEY_FILE wins over DATA_DIR',
      { DATA_DIR: 'var', DEV_ISSUER_KEY_FILE: 'k.json' },
      { keyFile: '/srv/app/k.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'empty variables count as unset',
      { PORT: '', PUBLIC_URL: '', OAUTH_AUDIENCE: '', DEV_ISSUER_KEY_FILE: '', DATA_DIR: '', HOST: '' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
  ])('%s', (_name, env, expected) => {
    const c = loadConfig(env, ROOT);
    expect(c.auth.issuer).toMatchObject({ kind: 'development', keyFile: expected.keyFile, issuer: expected.issuer });
    expect(c.auth.audience).toBe(expected.audience);
  });
});

describe('shutdown and telemetry settings', () => {
  it('defaults: a 10 s drain, no metrics listener, metrics on 127.0.0.1, no tracing', () => {
    const c = loadConfig({}, ROOT);
    expect(c.shutdown.drainTimeoutMs).toBe(10_000);
    expect(c.telemetry).toEqual({ metricsPort: undefined, metricsHost: '127.0.0.1', tracing: false });
  });

  it('reads SHUTDOWN_DRAIN_TIMEOUT_MS, METRICS_PORT and METRICS_HOST, naming a bad one', () => {
    const c = loadConfig({ SHUTDOWN_DRAIN_TIMEOUT_MS: '2500', METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }, ROOT);
    expect(c.shutdown.drainTimeoutMs).toBe(2500);
    expect(c.telemetry.metricsPort).toBe(9464);
    expect(c.telemetry.metricsHost).toBe('0.0.0.0');
    expect(() => loadConfig({ METRICS_PORT: 'ninety' }, ROOT)).toThrow(expect.objectContaining({ variable: 'METRICS_PORT' }));
    expect(() => loadConfig({ SHUTDOWN_DRAIN_TIMEOUT_MS: '-1' }, ROOT)).toThrow(expect.objectContaining({ variable: 'SHUTDOWN_DRAIN_TIMEOUT_MS' }));
  });

  it('turns tracing on from the standard OTEL_* variables only', () => {
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }, ROOT).telemetry.tracing).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, ROOT).telemetry.tracing).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, ROOT).telemetry.tracing).toBe(true);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, ROOT).telemetry.tracing).toBe(false);
    expect(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, ROOT).telemetry.tracing).toBe(false);
  });
});
