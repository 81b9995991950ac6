import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

/**
 * Where the development issuer keeps its key and how it names itself and this API: the
 * configuration's `auth.issuer` (kind `development`) and `auth.audience` (src/config.ts derives
 * them; `npm run token` reads them from what the running server recorded, see {@link recordDevIssuer}).
 */
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
  /** `kid` of the signing key (its RFC 7638 thumbprint unless the key file names one). */
  readonly keyId: string;
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
    keyId: kid,
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

/**
 * What a running server accepts from the development issuer, recorded in its `DATA_DIR` so that
 * `npm run token` started in the same folder mints tokens it accepts, whatever PORT, HOST or
 * PUBLIC_URL the server was started with.
 */
export interface DevIssuerRecord {
  /** `iss` the server accepts. */
  readonly issuer: string;
  /** `aud` the server accepts. */
  readonly audience: string;
  /** `kid` of the key the server verifies with: the record applies only to tokens signed with that key. */
  readonly keyId: string;
  /** Where the server listens (for people reading the file). */
  readonly url: string;
}

/** Name of the record in `DATA_DIR`. */
export const DEV_ISSUER_RECORD_FILE = 'dev-issuer.json';

/** Writes `record` to `dataDir` (created when missing), replacing the previous one whole. */
export async function recordDevIssuer(dataDir: string, record: DevIssuerRecord): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, DEV_ISSUER_RECORD_FILE);
  // Renamed into place: a reader (or another cluster worker writing the same) never sees half a file.
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  const { issuer, audience, keyId, url } = record;
  await writeFile(temporary, `${JSON.stringify({ issuer, audience, keyId, url }, null, 2)}\n`, { flag: 'wx' });
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** The record a server wrote to `dataDir`, or undefined when there is none (or it is not one). */
export async function readDevIssuerRecord(dataDir: string): Promise<DevIssuerRecord | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(join(dataDir, DEV_ISSUER_RECORD_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { issuer, audience, keyId, url } = value as Record<string, unknown>;
  if (typeof issuer !== 'string' || typeof audience !== 'string' || typeof keyId !== 'string' || typeof url !== 'string') return undefined;
  return Object.freeze({ issuer, audience, keyId, url });
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
