/**
 * The server as `npm start` starts it, on a data folder seeded the way the peers' are: what
 * `npm run bench` and `npm run bench:focus` measure as "shipped".
 */
import { loadConfig } from '../../src/config.js';
import { type ServerProcess, benchDataDir, startShipped } from './children.js';
import type { TokenSettings, Variant } from './protocol.js';
import { PROJECT_ROOT, benchEnv, openDatabase } from './servers.js';

/**
 * Seeds a data folder (and database) the way the other servers' are, then starts `dist/main.js`
 * on it with default settings and `env` (LOG_LEVEL unset: the default, logs on).
 */
export async function startSeededShipped(name: string, variant: Variant, tokens: TokenSettings, env: Record<string, string>): Promise<ServerProcess> {
  const dataDir = benchDataDir(name);
  const { LOG_LEVEL: _silent, ...defaults } = benchEnv(dataDir);
  const serverEnv = { ...defaults, DEV_ISSUER_KEY_FILE: tokens.keyFile, ...env };
  const config = loadConfig(serverEnv, PROJECT_ROOT);
  // The many users only where the workloads run (SQLite): seeding them on PostgreSQL takes minutes.
  await (await openDatabase(config.database, tokens.issuer, { manyUsers: config.database.kind === 'sqlite' })).close();
  return startShipped(name, variant, dataDir, serverEnv, tokens);
}
