/**
 * The project behind node:cluster for the HTTP benchmark (`bench/run.ts` forks it with an IPC
 * channel): `BENCH_WORKERS` (default 2) workers, each the real product (`server-child.ts
 * project`), sharing one loopback port (port 0: the primary picks it, every worker gets the same).
 * Like `src/cluster.ts`, the primary migrates and seeds the database once before forking, so
 * workers never race on it. Relays `ready`, `stats` (summed over primary and workers) and
 * `shutdown`; exits, taking its workers with it, when the parent goes away.
 *
 * Environment: `BENCH_DATA_DIR` (required), `BENCH_WORKERS`, `BENCH_OWN_DATA_DIR` (`1`: remove
 * the data folder on exit).
 */
import cluster, { type Worker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seedCatalog } from '../src/db/seed.js';
import { type ChildMessage, type ReadyMessage, type StatsMessage, isChildMessage, isParentMessage } from './lib/protocol.js';
import { seedBenchData } from './lib/seed.js';
import { PROJECT_ROOT, benchEnv, tokenSettings } from './lib/servers.js';

function send(message: ChildMessage): void {
  process.send?.(message);
}

function waitForReady(worker: Worker): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isChildMessage(message)) return;
      if (message.type === 'ready') {
        cleanup();
        resolve(message);
      } else if (message.type === 'error') {
        cleanup();
        reject(new Error(`worker ${worker.process.pid}: ${message.message}`));
      }
    };
    const onExit = (code: number, signal: string | null) => {
      cleanup();
      reject(new Error(`worker ${worker.process.pid} exited before it was ready (${signal ?? code})`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

async function primary(): Promise<void> {
  const dataDir = process.env['BENCH_DATA_DIR'];
  if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
  const count = Number(process.env['BENCH_WORKERS'] ?? 2);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error('BENCH_WORKERS must be a whole number from 1 to 64');

  const config = loadConfig(benchEnv(dataDir), PROJECT_ROOT);
  const tokens = tokenSettings(config);
  await loadOrCreateDevIssuer(tokens); // the key, once, before any worker reads it
  const database = await createDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    await seedCatalog(database.db);
    await seedBenchData(database.db, tokens.issuer);
  } finally {
    await database.close();
  }

  // Compiled (.bench-build/bench/cluster.js forks server-child.js beside it), or under tsx when run from bench/ directly.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  cluster.setupPrimary({ exec: fileURLToPath(new URL(`./server-child.${extension}`, import.meta.url)), args: ['project'] });
  const workers = Array.from({ length: count }, () => cluster.fork({ BENCH_DATA_DIR: dataDir, BENCH_SEED: '0', BENCH_OWN_DATA_DIR: '0' }));
  const exit = (code: number) => {
    if (process.env['BENCH_OWN_DATA_DIR'] === '1') rmSync(dataDir, { recursive: true, force: true });
    process.exit(code);
  };
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const worker of workers) if (!worker.isDead()) worker.send({ type: 'shutdown' });
    const timer = setTimeout(() => {
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
      exit(code);
    }, 5000);
    timer.unref();
    const done = () => {
      if (workers.every((w) => w.isDead())) exit(code);
    };
    cluster.on('exit', done);
    done();
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    send({ type: 'error', message: `cluster worker ${worker.process.pid} exited (${signal ?? code})` });
    stop(1);
  });
  process.on('disconnect', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  const ready = await Promise.all(workers.map(waitForReady));
  const urls = new Set(ready.map((r) => r.url));
  if (urls.size !== 1) throw new Error(`workers listen on different URLs: ${[...urls].join(', ')}`);

  // stats: ask every worker, answer with the sums (the primary's own RSS included).
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === 'shutdown') return stop(0);
    const replies = workers.map(
      (worker) =>
        new Promise<StatsMessage>((resolve) => {
          const id = ++nextId;
          const onMessage = (reply: unknown) => {
            if (isChildMessage(reply) && reply.type === 'stats' && reply.id === id) {
              worker.off('message', onMessage);
              resolve(reply);
            }
          };
          worker.on('message', onMessage);
          worker.send({ type: 'stats', id });
        }),
    );
    void Promise.all(replies).then((stats) => {
      const own = process.memoryUsage();
      const ownCpu = process.cpuUsage();
      send({
        type: 'stats',
        id: message.id,
        rss: own.rss + stats.reduce((sum, s) => sum + s.rss, 0),
        heapUsed: own.heapUsed + stats.reduce((sum, s) => sum + s.heapUsed, 0),
        sqlStatements: stats.reduce((sum, s) => sum + s.sqlStatements, 0),
        cpuMicros: ownCpu.user + ownCpu.system + stats.reduce((sum, s) => sum + s.cpuMicros, 0),
        gcMicros: stats.reduce((sum, s) => sum + s.gcMicros, 0),
      });
    });
  });

  const first = ready[0]!;
  process.stdout.write(`listening ${first.url} (${count} workers)\n`);
  send({ ...first, pid: process.pid, workers: count });
}

if (cluster.isPrimary) {
  primary().catch((error: unknown) => {
    process.stderr.write(`cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    setTimeout(() => process.exit(1), 100).unref();
  });
}
