import { fileURLToPath } from 'node:url';
import { type Config, ConfigError, loadConfig } from './config.js';

/** The project root (the folder holding schema/ and data/), from this module's own location. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The process's configuration, for the entry points (main, cluster). An invalid value stops the
 * process with a message naming the variable and exit code 78 (EX_CONFIG).
 */
export function configFromEnvironmentOrExit(): Config {
  try {
    return loadConfig(process.env, PROJECT_ROOT);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
