/**
 * One server process of the HTTP benchmark (`bench/run.ts` forks it with an IPC channel):
 *
 *   node --import tsx bench/server-child.ts <baseline|no-authz|authn-only|project>
 *
 * Environment: `BENCH_DATA_DIR` (required: its own folder for the SQLite database and the
 * development key), `BENCH_SEED` (`0` skips the bench data, for a cluster's workers),
 * `BENCH_OWN_DATA_DIR` (`1`: remove the data folder on exit).
 * Listens on 127.0.0.1, port 0; prints `listening <url>` and sends a `ready` message; answers
 * `stats` (RSS, heap, SQL statements so far) and `shutdown`. Exits when the parent goes away.
 */
import { rmSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { type ChildMessage, type ReadyMessage, type Variant, VARIANTS, isParentMessage } from './lib/protocol.js';
import { loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { startApolloPeer, startMercuriusPeer } from './lib/peers.js';
import { sqlStatementCount, startAuthnOnly, startPlain, startProject } from './lib/servers.js';
import type { Running } from './lib/servers.js';
import type { TokenSettings } from './lib/protocol.js';

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Garbage collection pause time since start, microseconds. */
let gcMicros = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMicros += entry.duration * 1000;
}).observe({ entryTypes: ['gc'] });

/** The peers verify (Mercurius) or seed profiles for (Apollo) the tokens of the issuer the parent gives in BENCH_TOKENS. */
function sharedTokens(): TokenSettings {
  const raw = process.env['BENCH_TOKENS'];
  if (!raw) throw new Error('BENCH_TOKENS is required for the peers');
  return JSON.parse(raw) as TokenSettings;
}

async function start(variant: Variant, dataDir: string, seed: boolean): Promise<Running> {
  switch (variant) {
    case 'project':
      return startProject(dataDir, seed);
    case 'authn-only':
      return startAuthnOnly(dataDir, seed);
    case 'baseline':
    case 'no-authz':
      return startPlain(variant, dataDir, seed);
    case 'apollo':
      return startApolloPeer(dataDir, seed, sharedTokens());
    case 'mercurius': {
      const tokens = sharedTokens();
      return startMercuriusPeer(dataDir, seed, tokens, (await loadOrCreateDevIssuer(tokens)).jwks);
    }
    default:
      throw new Error(`${variant} is not run by server-child.ts`);
  }
}

async function main(): Promise<void> {
  const variant = process.argv[2] as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`usage: server-child.ts <${VARIANTS.join('|')}>`);
  const dataDir = process.env['BENCH_DATA_DIR'];
  if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
  const seed = process.env['BENCH_SEED'] !== '0';

  const running = await start(variant, dataDir, seed);

  let closing: Promise<void> | undefined;
  const shutdown = (code: number) => {
    closing ??= running
      .close()
      .catch((error: unknown) => {
        process.stderr.write(`[${variant}] close failed: ${String(error)}\n`);
      })
      .finally(() => {
        // The parent removes the folder too; this covers a parent that was killed outright.
        if (process.env['BENCH_OWN_DATA_DIR'] === '1') rmSync(dataDir, { recursive: true, force: true });
        process.exit(code);
      });
  };
  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === 'shutdown') return shutdown(0);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message.gc && gc) gc();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    send({ type: 'stats', id: message.id, rss: memory.rss, heapUsed: memory.heapUsed, sqlStatements: sqlStatementCount(), cpuMicros: cpu.user + cpu.system, gcMicros });
  });
  // The parent (or a cluster's primary) went away: never outlive it.
  process.on('disconnect', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));

  process.stdout.write(`listening ${running.url}\n`);
  const ready: ReadyMessage = { type: 'ready', variant, url: running.url, pid: process.pid, workers: 1, executor: running.executor, ...(running.tokens ? { tokens: running.tokens } : {}) };
  send(ready);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`server-child failed: ${message}\n`);
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  // Let the IPC message flush before exiting.
  setTimeout(() => process.exit(1), 100).unref();
});
