/**
 * `npm run bench`: HTTP throughput of the resource server against a vanilla Apollo Server
 * baseline, over loopback, every server in its own child process (issue 5).
 *
 * Servers (bench/server-child.ts, bench/lib/servers.ts), each with its own SQLite database
 * seeded with the same data (200 products; 2 users × 50 orders × 3 items):
 * - baseline:   vanilla Apollo Server 5 on Fastify (default plugins, graphql-js), the project's
 *               schema without the authorization transform, its resolvers and database; no
 *               authentication: a fixed principal (the queried user) and fresh loaders per request;
 * - no-authz:   the same with the project's Apollo tuning (its executor, no cache-control plugin);
 * - authn-only: the project's request path minus the authorization layer, composed from the parts
 *               `createServer` uses (token verification and request context kept; no schema
 *               transform, no authorization plugin);
 * - project:    the product, `createServer(loadConfig(env))`, development issuer, everything on.
 *
 * Queries: Q1 `me { displayName }`; Q2 `me` + 20 orders × 3 items + products; Q3 the public
 * catalog, anonymous; Q4 = Q2 with a token lacking `read:orders` (partial answer, FORBIDDEN).
 * Sampled responses are checked (the first, then every 100th); a wrong one aborts the cell.
 * Also: SQL statements per Q2 request at page sizes 1/20/100; RSS at the start and end of a
 * sustained Q2 run on a fresh project process; Q2 on the project behind node:cluster with 2
 * workers (bench/cluster.ts).
 *
 * `--quick` (under a minute) runs short cells and does not touch docs/BENCHMARKS.md; a full
 * run rewrites its results section. Figures are printed, never asserted.
 */
import { fileURLToPath } from 'node:url';
import { type DevIssuer, loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { type ServerProcess, killAllNow, startServer, stopAll } from './lib/children.js';
import { CellError, type RawRun, drive, requestOnce, summarize } from './lib/load.js';
import type { Variant } from './lib/protocol.js';
import { type Credentials, type Operation, Q2, QUERIES, ordersQuery } from './lib/queries.js';
import { type Cell, type ClusterReport, type MemoryReport, type RunInfo, type StatementRow, type ThroughputRow, gitCommit, machine, renderReport, writeDocs } from './lib/report.js';
import { BENCH_USERS, ORDERS_PER_USER } from './lib/seed.js';

const quick = process.argv.includes('--quick');
const SETTINGS = quick
  ? { connections: 32, warmupSec: 1, measureSec: 1, rounds: 1, sustainedSec: 10, statsEverySec: 2 }
  : { connections: 32, warmupSec: 5, measureSec: 15, rounds: 5, sustainedSec: 60, statsEverySec: 5 };
const CLUSTER_WORKERS = 2;
const PAGE_SIZES = [1, 20, 100];
const ORDER: readonly Variant[] = ['baseline', 'no-authz', 'authn-only', 'project'];
const DOCS = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));

type Tokens = Record<Exclude<Credentials, 'none'>, string>;

interface Target {
  readonly variant: Variant;
  readonly server: ServerProcess;
  readonly tokens: Tokens;
  /** Whether the server applies the project's authorization (Q4 is then a partial answer). */
  readonly enforces: boolean;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function signTokens(server: ServerProcess): Promise<Tokens> {
  const settings = server.ready.tokens;
  if (settings === undefined) throw new Error(`${server.name} does not verify tokens`);
  const issuer: DevIssuer = await loadOrCreateDevIssuer(settings);
  const user = BENCH_USERS[0];
  const sign = (scope: string) => issuer.sign({ sub: user.subject, name: user.name, scope, expiresInSec: 4 * 3600 });
  return { full: await sign('read:profile read:orders'), 'profile-only': await sign('read:profile') };
}

function tokenFor(target: Target, operation: Operation): string | undefined {
  return operation.credentials === 'none' ? undefined : target.tokens[operation.credentials];
}

function logCell(label: string, cell: Cell): void {
  if (!cell.ok) {
    log(`  ${label.padEnd(28)} ABORTED: ${cell.error}`);
    return;
  }
  const r = cell.result;
  const rounds = r.roundRps.length > 1 ? `; rounds ${r.roundRps.map((x) => x.toFixed(0)).join(' / ')}` : '';
  const cpu = Number.isFinite(r.cpuPerRequestUs) ? `  server CPU ${r.cpuPerRequestUs.toFixed(0).padStart(5)} µs/req, GC ${r.gcPerRequestUs.toFixed(1).padStart(5)}` : '';
  log(`  ${label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${cpu}  (${r.requests} requests, ${r.sampled} checked${rounds})`);
}

/**
 * Measures one operation on several servers: each is warmed up, then the measured time is cut
 * into rounds that visit every server in turn (starting one further along each round), so that
 * drift of a shared machine spreads over all of them. A wrong response aborts that server's cell.
 */
async function cells(operation: Operation, targets: readonly Target[], label: (t: Target) => string): Promise<Map<Target, Cell>> {
  const runs = new Map<Target, RawRun[]>(targets.map((t) => [t, []]));
  const failed = new Map<Target, string>();
  const options = (t: Target) => ({ endpoint: t.server.endpoint, operation, token: tokenFor(t, operation), enforcesAuthorization: t.enforces, connections: SETTINGS.connections });
  const attempt = async (t: Target, durationSec: number, record: boolean) => {
    if (failed.has(t)) return;
    try {
      const before = record ? await t.server.stats() : undefined;
      const run = await drive({ ...options(t), durationSec });
      const after = record ? await t.server.stats() : undefined;
      if (record) runs.get(t)!.push({ ...run, serverCpuMicros: after!.cpuMicros - before!.cpuMicros, serverGcMicros: after!.gcMicros - before!.gcMicros });
    } catch (error) {
      if (!(error instanceof CellError)) throw error;
      failed.set(t, error.message);
    }
  };
  for (const t of targets) await attempt(t, SETTINGS.warmupSec, false);
  for (let round = 0; round < SETTINGS.rounds; round++) {
    for (let i = 0; i < targets.length; i++) await attempt(targets[(i + round) % targets.length]!, SETTINGS.measureSec / SETTINGS.rounds, true);
  }
  const out = new Map<Target, Cell>();
  for (const t of targets) {
    const error = failed.get(t);
    const cell: Cell = error !== undefined ? { ok: false, error } : { ok: true, result: summarize(runs.get(t)!) };
    logCell(label(t), cell);
    out.set(t, cell);
  }
  return out;
}

/** One full-checked request of every query to every server before any load: fails fast, with the reason. */
async function preflight(targets: readonly Target[]): Promise<void> {
  for (const target of targets) {
    for (const operation of QUERIES) {
      try {
        await requestOnce(target.server.endpoint, operation, tokenFor(target, operation), target.enforces);
      } catch (error) {
        throw new Error(`preflight: ${target.variant} answers ${operation.id} wrongly: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

async function countStatements(targets: readonly Target[]): Promise<StatementRow[]> {
  const rows: StatementRow[] = [];
  for (const first of PAGE_SIZES) {
    const operation = ordersQuery(first);
    const counts: Partial<Record<Variant, number>> = {};
    for (const target of targets) {
      // Once first, so that caches that fill on first use (product rows) are as under load.
      await requestOnce(target.server.endpoint, operation, target.tokens.full, target.enforces);
      const before = await target.server.stats();
      await requestOnce(target.server.endpoint, operation, target.tokens.full, target.enforces);
      const after = await target.server.stats();
      counts[target.variant] = after.sqlStatements - before.sqlStatements;
    }
    rows.push({ first, returned: Math.min(first, ORDERS_PER_USER), counts });
  }
  return rows;
}

async function sustained(target: Target): Promise<MemoryReport> {
  const start = await target.server.stats();
  const startGc = await target.server.stats({ gc: true });
  const series: number[] = [];
  const timer = setInterval(() => {
    target.server.stats().then(
      (s) => series.push(s.rss),
      () => undefined,
    );
  }, SETTINGS.statsEverySec * 1000);
  let load: Cell;
  try {
    const run = await drive({ endpoint: target.server.endpoint, operation: Q2, token: target.tokens.full, enforcesAuthorization: true, connections: SETTINGS.connections, durationSec: SETTINGS.sustainedSec });
    load = { ok: true, result: summarize([run]) };
  } catch (error) {
    if (!(error instanceof CellError)) throw error;
    load = { ok: false, error: error.message };
  } finally {
    clearInterval(timer);
  }
  logCell('project Q2 sustained', load);
  const end = await target.server.stats();
  const endGc = await target.server.stats({ gc: true });
  return {
    durationSec: SETTINGS.sustainedSec,
    everySec: SETTINGS.statsEverySec,
    start: { rss: start.rss, heapUsed: start.heapUsed },
    startAfterGc: { rss: startGc.rss, heapUsed: startGc.heapUsed },
    end: { rss: end.rss, heapUsed: end.heapUsed },
    endAfterGc: { rss: endGc.rss, heapUsed: endGc.heapUsed },
    series,
    peakRss: Math.max(start.rss, end.rss, ...series),
    load,
  };
}

async function main(): Promise<number> {
  const began = Date.now();
  const { nproc, cpu, node } = machine();
  log(`HTTP benchmark (${quick ? 'quick' : 'full'}): node ${node}, ${nproc} CPUs (${cpu}), ${SETTINGS.connections} connections, ${SETTINGS.warmupSec} s warm-up + ${SETTINGS.measureSec} s per cell`);
  if (quick) log('--quick: a smoke test of the whole run; its figures are too short to compare (run without --quick for those)');
  log('starting servers (one process each, plus a fresh project for the memory run and a 2-worker cluster)…');

  const [baseline, noAuthz, authnOnly, project, projectFresh, cluster] = await Promise.all([
    startServer('baseline', 'server-child.ts', ['baseline']),
    startServer('no-authz', 'server-child.ts', ['no-authz']),
    startServer('authn-only', 'server-child.ts', ['authn-only']),
    startServer('project', 'server-child.ts', ['project']),
    startServer('project-memory', 'server-child.ts', ['project'], { exposeGc: true }),
    startServer('project-cluster', 'cluster.ts', [], { env: { BENCH_WORKERS: String(CLUSTER_WORKERS) } }),
  ]);
  log(`  ready after ${((Date.now() - began) / 1000).toFixed(1)} s: ${[baseline, noAuthz, authnOnly, project, projectFresh, cluster].map((s) => `${s.name} ${s.ready.url}`).join(', ')}`);

  const projectTokens = await signTokens(project);
  const targets: Target[] = [
    { variant: 'baseline', server: baseline, tokens: projectTokens, enforces: false },
    { variant: 'no-authz', server: noAuthz, tokens: projectTokens, enforces: false },
    { variant: 'authn-only', server: authnOnly, tokens: await signTokens(authnOnly), enforces: false },
    { variant: 'project', server: project, tokens: projectTokens, enforces: true },
  ];
  const freshTarget: Target = { variant: 'project', server: projectFresh, tokens: await signTokens(projectFresh), enforces: true };
  const clusterTarget: Target = { variant: 'project', server: cluster, tokens: await signTokens(cluster), enforces: true };

  await preflight([...targets, clusterTarget]);
  log('preflight: every server answers Q1–Q4 correctly');
  const statements = await countStatements(targets);
  log(`SQL statements per Q2 request: ${statements.map((r) => `first ${r.first}: ${ORDER.map((v) => `${v} ${r.counts[v]}`).join(', ')}`).join(' | ')}`);

  log('throughput:');
  const rows: ThroughputRow[] = [];
  for (const operation of QUERIES) {
    // Servers without the authorization layer answer Q4 exactly as Q2 (they never check scopes): Q4 runs on the project only.
    const group = targets.filter((t) => operation.id !== 'Q4' || t.variant === 'project');
    const measured = await cells(operation, group, (t) => `${operation.id} ${t.variant}`);
    const byServer: Partial<Record<Variant, Cell>> = {};
    for (const [t, c] of measured) byServer[t.variant] = c;
    const baselineFrom = operation.id === 'Q4' ? 'baseline Q2' : undefined;
    const baselineCell = operation.id === 'Q4' ? rows.find((r) => r.query === 'Q2')?.cells.baseline : byServer.baseline;
    rows.push({ query: operation.id, title: operation.title, cells: byServer, ...(baselineFrom ? { baselineFrom } : {}), baselineCell });
  }

  log(`cluster (${CLUSTER_WORKERS} workers):`);
  const clusterCell = (await cells(Q2, [clusterTarget], () => `Q2 project ×${CLUSTER_WORKERS} workers`)).get(clusterTarget)!;
  const clusterReport: ClusterReport = { workers: CLUSTER_WORKERS, cell: clusterCell, single: rows.find((r) => r.query === 'Q2')?.cells.project };
  await cluster.stop();

  log(`memory (fresh project process, Q2 for ${SETTINGS.sustainedSec} s):`);
  const memory = await sustained(freshTarget);

  const executors: Partial<Record<Variant, string>> = {};
  for (const t of targets) if (t.server.ready.executor) executors[t.variant] = t.server.ready.executor;
  const info: RunInfo = {
    mode: quick ? 'quick' : 'full',
    command: quick ? 'npx tsx bench/run.ts --quick' : 'npm run bench',
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ...machine(),
    commit: gitCommit(),
    connections: SETTINGS.connections,
    warmupSec: SETTINGS.warmupSec,
    measureSec: SETTINGS.measureSec,
    rounds: SETTINGS.rounds,
    executors,
    elapsedSec: (Date.now() - began) / 1000,
  };
  const report = renderReport(info, rows, statements, memory, clusterReport);
  log(`\n${report}\n`);

  const failed = [...rows.flatMap((r) => Object.values(r.cells)), clusterReport.cell, memory.load].filter((c): c is Extract<Cell, { ok: false }> => c !== undefined && !c.ok);
  if (!quick) {
    if (failed.length === 0) {
      writeDocs(DOCS, report);
      log(`results written to ${DOCS}`);
    } else {
      log('docs/BENCHMARKS.md not updated: some cells were aborted');
    }
  }
  log(`done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return failed.length === 0 ? 0 : 1;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers…\n`);
    stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

main()
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll();
    process.exit(1);
  });

