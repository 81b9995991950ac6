import { fileURLToPath } from 'node:url';
import { type CliIo, isEntryPoint, parseCliArgs, processIo, usageError } from './cli-io.js';
export type { CliIo } from './cli-io.js';
import { DEV_CLIENT_ID, devIssuerSettings, loadOrCreateDevIssuer } from '../dev-issuer/dev-issuer.js';

export const USAGE = `Usage: npm run -s token -- (--sub <user> | --client) --scope "<scopes>" [options]

Prints a development access token signed by the built-in issuer (only when OAUTH_ISSUER is unset).
Reads PORT, HOST, PUBLIC_URL, OAUTH_AUDIENCE, DATA_DIR and DEV_ISSUER_KEY_FILE as the server does.

  --sub <id>          end user the token is for
  --client            a client-credentials token instead (sub = client id)
  --scope "<s1 s2>"   space-separated scopes (required; may be "")
  --name <name>       display name claim
  --client-id <id>    client_id (default ${DEV_CLIENT_ID})
  --expires-in <sec>  lifetime in seconds (default 3600)
  --aud <audience>    audience (default: the server's, OAUTH_AUDIENCE or <PUBLIC_URL>/graphql)
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

  if (env['OAUTH_ISSUER']) {
    io.stderr('Refusing to mint a token: OAUTH_ISSUER is set, so the server does not trust the development issuer.\n');
    return 1;
  }
  if (env['NODE_ENV'] === 'production') {
    io.stderr('Refusing to mint a token: NODE_ENV=production, where the development issuer is disabled.\n');
    return 1;
  }

  try {
    const issuer = await loadOrCreateDevIssuer(devIssuerSettings(env, projectRoot));
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

if (isEntryPoint(import.meta.url)) {
  const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
  process.exitCode = await runTokenCli(process.argv.slice(2), process.env, projectRoot, processIo);
}
