import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { createServer } from './server.js';

/** The only module that reads the environment, listens and handles signals. */
async function main(): Promise<void> {
  const projectRoot = fileURLToPath(new URL('..', import.meta.url));
  let config;
  try {
    config = loadConfig(process.env, projectRoot);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const server = await createServer(config);
  server.app.log.info({ url: `${server.url}/graphql` }, `GraphQL API ready at ${server.url}/graphql`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
