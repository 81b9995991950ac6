import { fileURLToPath } from 'node:url';
import { type CliIo, isEntryPoint, parseCliArgs, processIo, usageError } from './cli-io.js';
export type { CliIo } from './cli-io.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { DEV_CLIENT_ID, type DevIssuerSettings, loadOrCreateDevIssuer, readDevIssuerRecord } from '../dev-issuer/dev-issuer.js';

export const USAGE = `Usage: npm run -s token -- (--sub <user> | --client) --scope "<scopes>" [options]

Prints a development access token signed by the built-in issuer (only when OAUTH_ISSUER is unset).
The issuer and audience are those the server started from this folder (the same DATA_DIR) recorded
in DATA_DIR/dev-issuer.json, however it was started; before any server has started, they derive from
PORT, HOST, PUBLIC_URL and OAUTH_AUDIENCE as the server's do. The key is DEV_ISSUER_KEY_FILE
(default DATA_DIR/dev-issuer-key.json).

  --sub <id>          end user the token is for
  --client            a client-credentials token instead (sub = client id)
  --scope "<s1 s2>"   space-separated scopes (required; may be "")
  --name <name>       display name claim
  --client-id <id>    client_id (default ${DEV_CLIENT_ID})
  --expires-in <sec>  lifetime in seconds (default 3600)
  --aud <audience>    audience (default: the server's, OAUTH_AUDIENCE or <PUBLIC_URL>/graphql)
  --url <server>      for the server at this URL instead (e.g. http://127.0.0.1:5000): its issuer and
                      audience are read from its /.well-known/oauth-protected-resource; it must
                      trust this folder's key
  --help              show this help

Example: TOKEN=$(npm run -s token -- --sub alice --scope "read:profile read:orders")
`;

/**
 * Runs `npm run token`. Returns the exit code: 0 success, 1 refused or failed, 2 bad arguments.
 *
 * @param projectRoot Directory the default key file (`data/dev-issuer-key.json`) is relative to.
 */
export async function runTokenCli(args: string[], env: NodeJS.ProcessEnv, projectRoot: string, io: CliIo): Promise<number> {
  const parsed = parseCliArgs(
    args,
    {
      sub: { type: 'string' },
      client: { type: 'boolean' },
      scope: { type: 'string' },
      name: { type: 'string' },
      'client-id': { type: 'string' },
      'expires-in': { type: 'string' },
      aud: { type: 'string' },
      url: { type: 'string' },
    },
    { io, usage: USAGE, allowPositionals: false },
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.scope === undefined) return usageError(io, '--scope is required', USAGE);
  if (values.client && values.sub !== undefined) return usageError(io, '--client and --sub are mutually exclusive', USAGE);
  if (!values.client && (values.sub === undefined || values.sub === '')) return usageError(io, '--sub (or --client) is required', USAGE);
  if (values['client-id'] === '') return usageError(io, '--client-id must not be empty', USAGE);
  let expiresInSec: number | undefined;
  if (values['expires-in'] !== undefined) {
    expiresInSec = Number(values['expires-in']);
    if (!/^\d+$/.test(values['expires-in']) || !Number.isSafeInteger(expiresInSec) || expiresInSec <= 0) {
      return usageError(io, '--expires-in must be a positive whole number of seconds', USAGE);
    }
  }

  if (values.url !== undefined && !/^https?:$/.test(URL.parse(values.url)?.protocol ?? '')) return usageError(io, '--url must be an http(s) URL', USAGE);

  if (env['OAUTH_ISSUER']) {
    io.stderr('Refusing to mint a token: OAUTH_ISSUER is set, so the server does not trust the development issuer.\n');
    return 1;
  }
  if (env['NODE_ENV'] === 'production') {
    io.stderr('Refusing to mint a token: NODE_ENV=production, where the development issuer is disabled.\n');
    return 1;
  }

  let config: Config;
  try {
    config = loadConfig(env, projectRoot);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`Invalid configuration: ${error.message}\n`);
    return 1;
  }
  const configured = config.auth.issuer;
  if (configured.kind !== 'development') {
    io.stderr('Refusing to mint a token: OAUTH_ISSUERS is set, so the server does not trust the development issuer.\n');
    return 1;
  }

  try {
    const settings = { keyFile: configured.keyFile, issuer: configured.issuer, audience: config.auth.audience };
    const issuer = await loadOrCreateDevIssuer(await serverSettings(settings, config.dataDir, values.url));
    const token = await issuer.sign({
      scope: values.scope,
      ...(values.sub !== undefined ? { sub: values.sub } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
      ...(expiresInSec !== undefined ? { expiresInSec } : {}),
      ...(values.aud !== undefined ? { audience: values.aud } : {}),
    });
    io.stdout(`${token}\n`);
    return 0;
  } catch (error) {
    io.stderr(`Could not mint a token: ${error instanceof Error ? error.message : 'unknown error'}\n`);
    return 1;
  }
}

/**
 * The issuer and audience of the server tokens are for: the one at `url` when given, else the
 * one that recorded itself in `dataDir` with this key, else `configured` (no server started yet).
 */
async function serverSettings(configured: DevIssuerSettings, dataDir: string, url: string | undefined): Promise<DevIssuerSettings> {
  const { keyId } = await loadOrCreateDevIssuer(configured);
  if (url !== undefined) return { ...configured, ...(await trustingServer(url, keyId, configured.keyFile)) };
  const recorded = await readDevIssuerRecord(dataDir);
  // A record of a server that verifies with another key is not the server these tokens are for.
  if (recorded === undefined || recorded.keyId !== keyId) return configured;
  return { ...configured, issuer: recorded.issuer, audience: recorded.audience };
}

/**
 * The audience (RFC 9728 `resource`) and issuer of the server at `url`, read from its protected
 * resource metadata; the issuer is the authorization server whose key set holds `keyId`.
 *
 * @throws {Error} when the server cannot be read or trusts no issuer with this key.
 */
async function trustingServer(url: string, keyId: string, keyFile: string): Promise<{ issuer: string; audience: string }> {
  const base = url.replace(/\/+$/, '');
  const getJson = async (target: string): Promise<unknown> => {
    const response = await fetch(target, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${target} answered ${response.status}`);
    return response.json();
  };
  const metadata = (await getJson(`${base}/.well-known/oauth-protected-resource`)) as { resource?: unknown; authorization_servers?: unknown };
  const servers = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers.filter((s): s is string => typeof s === 'string') : [];
  if (typeof metadata.resource !== 'string') throw new Error(`${base} did not name its resource (audience)`);
  for (const issuer of servers) {
    const path = URL.parse(issuer)?.pathname.replace(/\/+$/, '');
    if (path === undefined) continue;
    // The development issuer's keys are served by the server itself, under the issuer's path.
    const jwks = (await getJson(`${base}${path}/jwks.json`).catch(() => undefined)) as { keys?: Array<{ kid?: unknown }> } | undefined;
    if (jwks?.keys?.some((key) => key.kid === keyId)) return { issuer, audience: metadata.resource };
  }
  throw new Error(`the server at ${base} does not trust the key in ${keyFile}; run this in the server's folder, or set DATA_DIR or DEV_ISSUER_KEY_FILE to the server's`);
}

if (isEntryPoint(import.meta.url)) {
  const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
  process.exitCode = await runTokenCli(process.argv.slice(2), process.env, projectRoot, processIo);
}
