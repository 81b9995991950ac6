import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';

/** Where the development issuer keeps its key and how it names itself and this API. */
export interface DevIssuerSettings {
  /** Absolute path of the private JWK file. */
  keyFile: string;
  /** Issuer identifier (`iss`). */
  issuer: string;
  /** Audience its tokens are issued for (`aud`). */
  audience: string;
}

/** Claims for a development access token. */
export interface DevTokenClaims {
  /** End user. Default: the client id (a client-credentials token, RFC 9068 §2.2). */
  sub?: string;
  /** `client_id`. Default: `dev-client`. */
  clientId?: string;
  /** Space-separated granted scopes. */
  scope: string;
  /** `name` claim (display name). */
  name?: string;
  /** Lifetime in seconds. Default: 3600. */
  expiresInSec?: number;
  /** `aud`. Default: the issuer's configured audience. */
  audience?: string;
}

/** The built-in development authorization server: a persisted key pair that signs RFC 9068 tokens. */
export interface DevIssuer {
  readonly issuer: string;
  /** Public keys, for `createTokenVerifier({ keys })` and the `jwks_uri` route. */
  readonly jwks: JSONWebKeySet;
  /** RFC 8414 metadata to serve at the issuer's well-known URL; `jwks_uri` is `${issuer}/jwks.json`. */
  metadata(): Record<string, unknown>;
  /** Signs an access token (`typ: at+jwt`, RFC 9068 §2). */
  sign(claims: DevTokenClaims): Promise<string>;
}

/** Default `client_id` of development tokens. */
export const DEV_CLIENT_ID = 'dev-client';

const ALG = 'ES256';
const DEFAULT_LIFETIME_SEC = 3600;

/**
 * Derives the development issuer's settings from the environment, identically for the server and
 * `npm run token` (both must agree on the key file, `iss` and `aud`):
 *
 * - key file: `DEV_ISSUER_KEY_FILE`, else `${DATA_DIR ?? 'data'}/dev-issuer-key.json`; relative paths
 *   resolve against `projectRoot`;
 * - public URL: `PUBLIC_URL` (trailing slashes removed), else `http://${HOST ?? '127.0.0.1'}:${PORT ?? 4000}`
 *   (a wildcard HOST such as 0.0.0.0 becomes 127.0.0.1);
 * - issuer: `${public URL}/dev-issuer`;
 * - audience: `OAUTH_AUDIENCE`, else `${public URL}/graphql`.
 *
 * Empty variables count as unset.
 */
export function devIssuerSettings(env: NodeJS.ProcessEnv, projectRoot: string): DevIssuerSettings {
  const set = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const host = set('HOST');
  const reachableHost = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const publicUrl = (set('PUBLIC_URL') ?? `http://${reachableHost}:${set('PORT') ?? 4000}`).replace(/\/+$/, '');
  const keyFile = set('DEV_ISSUER_KEY_FILE') ?? join(set('DATA_DIR') ?? 'data', 'dev-issuer-key.json');
  return {
    keyFile: resolve(projectRoot, keyFile),
    issuer: `${publicUrl}/dev-issuer`,
    audience: set('OAUTH_AUDIENCE') ?? `${publicUrl}/graphql`,
  };
}

/**
 * Loads the development issuer's private key from `keyFile`, generating an ES256 key pair and
 * saving it (mode 0600, parent directories created) on first use.
 *
 * @throws {Error} when `keyFile` exists but does not hold a usable private signing JWK (it is never overwritten).
 */
export async function loadOrCreateDevIssuer(settings: DevIssuerSettings): Promise<DevIssuer> {
  const privateJwk = await readOrCreateKey(settings.keyFile);
  const alg = typeof privateJwk.alg === 'string' ? privateJwk.alg : defaultAlg(privateJwk);
  const privateKey = (await importJWK(privateJwk, alg)) as CryptoKey;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, key_ops: _ops, ext: _ext, ...publicJwk } = privateJwk;
  const kid = typeof publicJwk.kid === 'string' ? publicJwk.kid : await calculateJwkThumbprint(publicJwk);
  const jwk: JWK = Object.freeze({ ...publicJwk, kid, alg, use: 'sig' });
  const jwks: JSONWebKeySet = Object.freeze({ keys: Object.freeze([jwk]) as JWK[] });
  const { issuer } = settings;

  return Object.freeze({
    issuer,
    jwks,
    metadata: () => ({
      issuer,
      jwks_uri: `${issuer}/jwks.json`,
      // RFC 8414 §2 requires response_types_supported; this issuer has no authorization endpoint.
      response_types_supported: [],
    }),
    async sign(claims: DevTokenClaims): Promise<string> {
      const clientId = claims.clientId ?? DEV_CLIENT_ID;
      const lifetime = claims.expiresInSec ?? DEFAULT_LIFETIME_SEC;
      if (!Number.isInteger(lifetime) || lifetime <= 0) throw new TypeError('expiresInSec must be a positive integer');
      const payload: Record<string, unknown> = { client_id: clientId, scope: claims.scope };
      if (claims.name !== undefined) payload['name'] = claims.name;
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'at+jwt', kid })
        .setIssuer(issuer)
        .setAudience(claims.audience ?? settings.audience)
        .setSubject(claims.sub ?? clientId)
        .setIssuedAt()
        .setExpirationTime(`${lifetime}s`)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  });
}

async function readOrCreateKey(keyFile: string): Promise<JWK> {
  const existing = await readKey(keyFile);
  if (existing !== undefined) return existing;

  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = ALG;

  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  // Write a private temporary file, then link it into place: link fails if another process (the
  // server and `npm run token` may start together) created the key first, and nobody ever reads a
  // half-written file.
  const temporary = `${keyFile}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, keyFile);
    return jwk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readKey(keyFile);
    if (winner === undefined) throw error;
    return winner;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function readKey(keyFile: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new Error(`development issuer key file ${keyFile} is not JSON; delete it to generate a new key`);
  }
  if (!isPrivateSigningJwk(jwk)) {
    throw new Error(`development issuer key file ${keyFile} does not hold a private EC or RSA JWK; delete it to generate a new key`);
  }
  return jwk;
}

function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS256';
  return ({ 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''] ?? 'ES256';
}

function isPrivateSigningJwk(value: unknown): value is JWK {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (jwk['kty'] === 'EC' || jwk['kty'] === 'RSA') && typeof jwk['d'] === 'string';
}
