import { configFromEnvironmentOrExit } from './process-config.js';
import { flushLogsSync } from './logger.js';
import { createServer } from './server.js';

/** Reads the environment, listens and handles signals (src/cluster.ts does the same per worker). */
async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const server = await createServer(config);
  server.app.log.info({ url: `${server.url}/graphql` }, `GraphQL API ready at ${server.url}/graphql`);
  // Logs are written asynchronously: a fatal error writes its own line and everything before it, then exits.
  process.on('uncaughtException', (error) => {
    server.app.log.fatal({ err: error }, 'uncaught exception: exiting');
    flushLogsSync(server.app.log);
    process.exit(1);
  });

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
