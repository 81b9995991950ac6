import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevIssuer } from './dev-issuer/dev-issuer.js';
import { MIN_CURSOR_SECRET_BYTES } from './config.js';
import { configFromEnvironmentOrExit } from './process-config.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedCatalog } from './db/seed.js';
import { relayChangesBetweenWorkers } from './lib/cluster-relay.js';
import { AggregatorRegistry } from 'prom-client';
import { type MetricsServer, startMetricsServer } from './http/metrics-server.js';

/**
 * `npm run start:cluster`: one server process per core (`WORKERS` overrides), sharing the port
 * through node:cluster. The primary validates the configuration and migrates and seeds the
 * database once, so workers never race on it; a worker that dies is replaced. With METRICS_PORT
 * the primary serves every worker's metrics, aggregated. SIGTERM/SIGINT: every worker drains
 * (src/main.ts) and the primary exits 0 once all have exited.
 */
async function primary(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const { workers } = config;

  if (config.auth.issuer.kind === 'development') {
    // Create the development key once, before workers load it.
    await loadOrCreateDevIssuer({ keyFile: config.auth.issuer.keyFile, issuer: config.auth.issuer.issuer, audience: config.auth.audience });
  }
  const database = await createDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
  } finally {
    await database.close();
  }

  let stopping = false;
  let drainFailed = false;
  // Workers run main: from source under tsx (its loader is inherited through execArgv), or from dist/.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  cluster.setupPrimary({ exec: fileURLToPath(new URL(`./main.${extension}`, import.meta.url)) });
  // Workers must accept each other's cursors: without CURSOR_SECRET (never in production) they share one random secret.
  const workerEnv = config.cursorSecret === undefined ? { CURSOR_SECRET: randomBytes(MIN_CURSOR_SECRET_BYTES).toString('base64url') } : {};
  const fork = () => cluster.fork(workerEnv);
  // On SQLite each worker publishes its commits in process; the primary passes them to the others (PostgreSQL: LISTEN/NOTIFY).
  relayChangesBetweenWorkers();
  let metricsServer: MetricsServer | undefined;
  const { metricsPort, metricsHost } = config.telemetry;
  if (metricsPort !== undefined) {
    const aggregator = new AggregatorRegistry();
    metricsServer = await startMetricsServer({ host: metricsHost, port: metricsPort, scrape: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }) });
    process.stdout.write(`metrics at ${metricsServer.url}/metrics\n`);
  }
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // 0 only if every worker drained and closed cleanly.
      if (code !== 0) drainFailed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) void (metricsServer?.close() ?? Promise.resolve()).then(() => process.exit(drainFailed ? 1 : 0));
      return;
    }
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 1000).unref();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // The signal itself, not worker.kill(): that first disconnects the worker, which closes its
    // listener without the server knowing (no 503 on /readyz, no drain timeout).
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    // Each worker bounds its own drain; this bounds the whole if one hangs.
    setTimeout(() => process.exit(1), config.shutdown.drainTimeoutMs + 10_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`started ${workers} workers\n`);
}

if (cluster.isPrimary) {
  primary().catch((error: unknown) => {
    process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
