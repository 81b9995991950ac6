import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { startTracingSdk } from './lib/tracing-sdk.js';
import { configFromEnvironmentOrExit } from './process-config.js';
import { workerChangeRelay } from './lib/cluster-relay.js';
import { flushLogsSync } from './logger.js';
import { createServer } from './server.js';

/** Time allowed past the drain timeout for closing the pool, Redis and the tracing exporter. */
const SHUTDOWN_MARGIN_MS = 5000;

/** Reads the environment, listens and handles signals (src/cluster.ts does the same per worker). */
async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const tracing = config.telemetry.tracing ? await startTracingSdk() : undefined;
  // Under `npm run start:cluster`: SQLite commits reach the other workers through the primary, and
  // a worker's metrics are served by the primary, aggregated (src/cluster.ts).
  const server = await createServer(config, { changeRelay: workerChangeRelay(), metricsListener: !cluster.isWorker });
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([server.metrics.registry]);
    new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  }
  server.app.log.info({ url: `${server.url}/graphql`, ...(server.metricsUrl ? { metrics: `${server.metricsUrl}/metrics` } : {}) }, `GraphQL API ready at ${server.url}/graphql`);
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
    server.app.log.info({ signal, drainTimeoutMs: config.shutdown.drainTimeoutMs }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => process.exit(1), config.shutdown.drainTimeoutMs + SHUTDOWN_MARGIN_MS);
    timer.unref();
    server
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
