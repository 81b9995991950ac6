import path from 'node:path';
import { devIssuerSettings } from './auth/dev-issuer.js';
import type { AuthorizationMode } from './authz/field-guard.js';

/** Start-up failure: an environment variable is missing or invalid. Names the variable, never echoes secrets. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type DatabaseSettings = { readonly kind: 'sqlite'; readonly filename: string } | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

/** Where access tokens come from. */
export type IssuerSettings =
  /** The built-in development issuer (never in production). */
  | { readonly kind: 'development'; readonly keyFile: string; readonly issuer: string }
  /** A real authorization server. */
  | {
      readonly kind: 'external';
      readonly issuer: string;
      /** Skips discovery of `jwks_uri` when set. */
      readonly jwksUri: string | undefined;
      readonly introspection: { readonly url: string | undefined; readonly clientId: string; readonly clientSecret: string } | undefined;
    };

export interface Config {
  readonly environment: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Base URL clients use to reach this server (no trailing slash). */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly database: DatabaseSettings;
  readonly auth: {
    readonly issuer: IssuerSettings;
    /** This resource server's identifier; a token's `aud` must contain it (RFC 8707). */
    readonly audience: string;
    /** Accepted JWS algorithms (asymmetric only). */
    readonly algorithms: readonly string[];
    /** Accepted JWT `typ` header values (RFC 9068 §2.1). */
    readonly tokenTypes: readonly string[];
    /** Allowed clock skew for `exp`/`nbf`, seconds. */
    readonly clockToleranceSec: number;
  };
  readonly authorization: { readonly mode: AuthorizationMode };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Every environment variable the server reads, with its default and meaning (the README's table is generated from the same facts). */
export const ENVIRONMENT_VARIABLES = {
  NODE_ENV: 'development | production | test (default development). Production requires OAUTH_ISSUER and OAUTH_AUDIENCE.',
  HOST: 'Interface to listen on (default 127.0.0.1; 0.0.0.0 in production).',
  PORT: 'TCP port (default 4000).',
  PUBLIC_URL: 'Base URL clients use (default http://HOST:PORT); the default audience and issuer URLs derive from it.',
  DATA_DIR: 'Folder for the embedded database and development keys (default ./data).',
  DEV_ISSUER_KEY_FILE: "Development issuer's private key file (default DATA_DIR/dev-issuer-key.json).",
  DATABASE_URL: 'SQLite file path or sqlite: URL (default DATA_DIR/app.db), or a postgres:// URL.',
  DATABASE_POOL_SIZE: 'PostgreSQL connection pool size (default 10).',
  OAUTH_ISSUER: 'Issuer URL of the authorization server. Unset outside production: the built-in development issuer.',
  OAUTH_AUDIENCE: "This resource server's identifier; tokens' aud must contain it (default PUBLIC_URL/graphql outside production).",
  OAUTH_JWKS_URI: "JWKS URL; discovered from the issuer's RFC 8414 / OpenID metadata when unset.",
  OAUTH_ALGORITHMS: 'Comma-separated accepted JWS algorithms (default RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA).',
  OAUTH_TOKEN_TYPES: 'Comma-separated accepted JWT typ values (default at+jwt; Keycloak and Auth0 without RFC 9068 profile: at+jwt,JWT).',
  OAUTH_CLOCK_TOLERANCE: 'Allowed clock skew for exp/nbf in seconds (default 30, at most 300).',
  OAUTH_INTROSPECTION_URL: 'RFC 7662 introspection endpoint for opaque tokens (discovered when unset and client credentials are given).',
  OAUTH_CLIENT_ID: 'Client id this server authenticates with at the introspection endpoint.',
  OAUTH_CLIENT_SECRET: 'Client secret for the introspection endpoint.',
  AUTHZ_MODE: 'filter (default: denied fields null with errors) | reject (any denial rejects the operation) | dry-run (log only).',
  LOG_LEVEL: 'fatal | error | warn | info | debug | trace | silent (default info).',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

function list(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, 'must list at least one value');
  return items;
}

function integer(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return n;
}

function url(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, options: { https?: boolean } = {}): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError(name, 'must be an http(s) URL');
  if (options.https && parsed.protocol !== 'https:' && !isLoopback(parsed.hostname)) throw new ConfigError(name, 'must use https (http is allowed only for loopback hosts)');
  if (parsed.username || parsed.password) throw new ConfigError(name, 'must not contain credentials');
  return raw;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

function oneOf<T extends string>(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function database(env: Env, dataDir: string): DatabaseSettings {
  const raw = env['DATABASE_URL'];
  const poolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200);
  if (raw === undefined || raw === '') return { kind: 'sqlite', filename: path.join(dataDir, 'app.db') };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw, poolSize };
  }
  if (raw === ':memory:') return { kind: 'sqlite', filename: raw };
  if (raw.startsWith('sqlite:') || raw.startsWith('file:')) {
    const file = raw.replace(/^(sqlite|file):(\/\/)?/, '');
    if (!file) throw new ConfigError('DATABASE_URL', 'names no SQLite file');
    return { kind: 'sqlite', filename: path.resolve(file) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new ConfigError('DATABASE_URL', 'must be a file path, a sqlite: URL or a postgres:// URL');
  return { kind: 'sqlite', filename: path.resolve(raw) };
}

/**
 * Reads and validates the whole configuration from the environment. The only place that
 * interprets environment variables; an invalid value throws {@link ConfigError} naming it.
 */
export function loadConfig(env: Env, projectRoot: string): Config {
  const environment = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = environment === 'production';
  const host = env['HOST'] || (production ? '0.0.0.0' : '127.0.0.1');
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL')?.replace(/\/+$/, '') ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const dataDir = path.resolve(projectRoot, env['DATA_DIR'] || 'data');

  const issuerUrl = url(env, 'OAUTH_ISSUER', { https: true });
  let issuer: IssuerSettings;
  if (issuerUrl) {
    const clientId = env['OAUTH_CLIENT_ID'];
    const clientSecret = env['OAUTH_CLIENT_SECRET'];
    if (Boolean(clientId) !== Boolean(clientSecret)) {
      throw new ConfigError(clientId ? 'OAUTH_CLIENT_SECRET' : 'OAUTH_CLIENT_ID', 'OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET go together');
    }
    const introspectionUrl = url(env, 'OAUTH_INTROSPECTION_URL', { https: true });
    if (introspectionUrl && !clientId) throw new ConfigError('OAUTH_CLIENT_ID', 'is required with OAUTH_INTROSPECTION_URL');
    issuer = {
      kind: 'external',
      // Compared with `iss` character for character (RFC 8414 §3.3): kept exactly as given, trailing slash included.
      issuer: issuerUrl,
      jwksUri: url(env, 'OAUTH_JWKS_URI', { https: true }),
      introspection: clientId && clientSecret ? { url: introspectionUrl, clientId, clientSecret } : undefined,
    };
  } else {
    if (production) throw new ConfigError('OAUTH_ISSUER', 'is required when NODE_ENV=production (the development issuer is never used in production)');
    // The same derivation as `npm run token`, so that its tokens are accepted here.
    const dev = devIssuerSettings({ ...env }, projectRoot);
    issuer = { kind: 'development', keyFile: dev.keyFile, issuer: dev.issuer };
  }

  const audience = env['OAUTH_AUDIENCE'] || (production ? undefined : devIssuerSettings({ ...env }, projectRoot).audience);
  if (!audience) throw new ConfigError('OAUTH_AUDIENCE', 'is required when NODE_ENV=production');

  const algorithms = list(env, 'OAUTH_ALGORITHMS', [...ASYMMETRIC]);
  for (const alg of algorithms) {
    if (!ASYMMETRIC.has(alg)) throw new ConfigError('OAUTH_ALGORITHMS', `"${alg}" is not an accepted asymmetric algorithm (${[...ASYMMETRIC].join(', ')})`);
  }

  return Object.freeze({
    environment,
    host,
    port,
    publicUrl,
    dataDir,
    database: database(env, dataDir),
    auth: Object.freeze({
      issuer,
      audience,
      algorithms,
      tokenTypes: list(env, 'OAUTH_TOKEN_TYPES', ['at+jwt']),
      clockToleranceSec: integer(env, 'OAUTH_CLOCK_TOLERANCE', 30, 0, 300),
    }),
    authorization: { mode: oneOf(env, 'AUTHZ_MODE', ['filter', 'reject', 'dry-run'] as const, 'filter') },
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  });
}
