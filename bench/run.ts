/**
 * `npm run bench`: HTTP throughput of the resource server as users run it, against what a user
 * would build instead on the same data, over loopback, every server in its own process (issue 14).
 *
 * Servers, each with its own database seeded with the same data (200 products; 2 users × 50
 * orders × 3 items; on the four servers of the workloads also 1,000 users × 20 orders):
 * - shipped:      the server exactly as `npm start` starts it (`npm run build`, then `node dist/main.js`, default
 *                 settings, logs on, stdout to a file), seeded beforehand (bench/lib/children.ts);
 * - shipped-warn: the same with LOG_LEVEL=warn (the tuned configuration, beside it);
 * - shipped-pg:   the same on PostgreSQL (when BENCH_DATABASE_URL names a server: a database of
 *                 its own is created there and dropped at the end);
 * - apollo:       the baseline: plain Apollo Server 5 + Fastify, default plugins, its own SQL
 *                 through DataLoaders, no authentication (bench/lib/peers.ts);
 * - mercurius:    the peer: Mercurius + graphql-jit + mercurius-auth, its own SQL through
 *                 DataLoaders, jose's jwtVerify on every request, scopes by directive;
 * - authn-only / project: the product in process (logs off) with and without the authorization
 *                 layer (its cost), SQL statement counts; a fresh project for the memory run; Q2
 *                 behind node:cluster with 2 workers (bench/cluster.ts).
 * The shipped servers and the peers trust one development issuer (one key file), so one pool of
 * tokens serves them all.
 *
 * Queries: Q1 `me { displayName }`; Q2 `me` + 20 orders × 3 items + products; Q3 the public
 * catalog, anonymous; Q4 = Q2 with a token lacking `read:orders`. Workloads: Q1 with a
 * never-seen token on every request (ES256, the development issuer's algorithm); Q2 round-robin
 * over 1,000 users, one token each (every per-user path, no single hot row); Q1 under 1,000
 * documents in rotation; Q2 at page sizes 1 and 100; Q1–Q4 on PostgreSQL. Sampled responses are
 * checked (the first, then every 100th); a wrong one aborts the cell.
 *
 * `--quick` (a few minutes) runs short cells and does not touch docs/BENCHMARKS.md; a full run
 * rewrites its results section. Figures are printed, never asserted.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { type DevIssuer, loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { buildForBench } from './lib/build.js';
import { type ServerProcess, benchDataDir, killAllNow, startServer, stopAll } from './lib/children.js';
import { startSeededShipped } from './lib/shipped.js';
import { PROJECT_ROOT, benchEnv, tokenSettings } from './lib/servers.js';
import { CellError, type RawRun, drive, requestOnce, summarize } from './lib/load.js';
import type { TokenSettings, Variant } from './lib/protocol.js';
import { type Credentials, type Operation, Q1, Q2, QUERIES, manyDocuments, manyUsersQ2, ordersQuery } from './lib/queries.js';
import { type Cell, type ClusterReport, type MemoryReport, type RunInfo, type StatementRow, type ThroughputRow, gitCommit, machine, renderReport, writeDocs } from './lib/report.js';
import { BENCH_USERS, MANY_USERS, ORDERS_PER_USER, manyUser } from './lib/seed.js';

const quick = process.argv.includes('--quick');
const SETTINGS = quick
  ? { connections: 32, warmupSec: 1, measureSec: 1, rounds: 1, sustainedSec: 10, statsEverySec: 2 }
  : { connections: 32, warmupSec: 5, measureSec: 15, rounds: 5, sustainedSec: 60, statsEverySec: 5 };
const CLUSTER_WORKERS = 2;
const PAGE_SIZES = [1, 20, 100];
const FRESH_TOKENS = quick ? 3_000 : 20_000; // larger than the verified-token cache (10,000)
const DOCUMENTS = 1_000;
const DOCS = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));

type Tokens = Record<Exclude<Credentials, 'none'>, string>;

interface Target {
  readonly variant: Variant;
  readonly server: ServerProcess;
  readonly tokens: Tokens;
  /** Whether the server applies the project's authorization (Q4 is then a partial answer). */
  readonly enforces: boolean;
  /** Whether it reports SQL statement counts (the in-process servers). */
  readonly counts?: boolean;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function signTokens(server: ServerProcess): Promise<Tokens> {
  const settings = server.ready.tokens;
  if (settings === undefined) throw new Error(`${server.name} does not verify tokens`);
  return signWith(await loadOrCreateDevIssuer(settings));
}

async function signWith(issuer: DevIssuer): Promise<Tokens> {
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
interface Pools {
  readonly tokens?: readonly string[];
  readonly bodies?: readonly string[];
}

async function cells(operation: Operation, targets: readonly Target[], label: (t: Target) => string, pools: Pools = {}): Promise<Map<Target, Cell>> {
  const runs = new Map<Target, RawRun[]>(targets.map((t) => [t, []]));
  const failed = new Map<Target, string>();
  const options = (t: Target) => ({ endpoint: t.server.endpoint, operation, token: tokenFor(t, operation), enforcesAuthorization: t.enforces, connections: SETTINGS.connections, ...pools });
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
    for (const target of targets.filter((t) => t.counts)) {
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
  log('building dist/ (as npm start does) and the peers (.bench-build/)…');
  buildForBench();
  log('starting servers (one process each, plus a fresh project for the memory run and a 2-worker cluster)…');

  // One development issuer for the shipped servers and the peers: one key, one pool of tokens.
  const sharedDir = benchDataDir('issuer');
  cleanups.push(() => rmSync(sharedDir, { recursive: true, force: true }));
  const shared: TokenSettings = tokenSettings(loadConfig(benchEnv(sharedDir), PROJECT_ROOT));
  const sharedIssuer = await loadOrCreateDevIssuer(shared);
  const peerEnv = { BENCH_TOKENS: JSON.stringify(shared) };
  const pgUrl = await createPgDatabase();

  // PostgreSQL's seed first and alone: the SQLite seeds below run in this process too and block its
  // event loop for seconds at a time, long enough for the PostgreSQL client's timeouts to fire.
  const shippedPg = pgUrl === undefined ? undefined : await startSeededShipped('shipped-pg', 'shipped-pg', shared, { DATABASE_URL: pgUrl });
  const [apollo, mercurius, shipped, shippedWarn, authnOnly, project, projectFresh, cluster] = await Promise.all([
    startServer('apollo', 'server-child.ts', ['apollo'], { env: peerEnv, timeoutMs: 180_000 }),
    startServer('mercurius', 'server-child.ts', ['mercurius'], { env: peerEnv, timeoutMs: 180_000 }),
    startSeededShipped('shipped', 'shipped', shared, {}),
    startSeededShipped('shipped-warn', 'shipped-warn', shared, { LOG_LEVEL: 'warn' }),
    startServer('authn-only', 'server-child.ts', ['authn-only'], { timeoutMs: 180_000 }),
    startServer('project', 'server-child.ts', ['project'], { timeoutMs: 180_000 }),
    startServer('project-memory', 'server-child.ts', ['project'], { exposeGc: true, timeoutMs: 180_000 }),
    startServer('project-cluster', 'cluster.ts', [], { env: { BENCH_WORKERS: String(CLUSTER_WORKERS) }, timeoutMs: 180_000 }),
  ]);
  const all = [apollo, mercurius, shipped, shippedWarn, ...(shippedPg ? [shippedPg] : []), authnOnly, project, projectFresh, cluster];
  log(`  ready after ${((Date.now() - began) / 1000).toFixed(1)} s: ${all.map((s) => `${s.name} ${s.ready.url}`).join(', ')}`);
  if (!shippedPg) log('  PostgreSQL rows skipped: set BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them');

  const sharedTokens = await signWith(sharedIssuer);
  const targets: Target[] = [
    { variant: 'apollo', server: apollo, tokens: sharedTokens, enforces: false },
    { variant: 'mercurius', server: mercurius, tokens: sharedTokens, enforces: true },
    { variant: 'shipped', server: shipped, tokens: sharedTokens, enforces: true },
    { variant: 'shipped-warn', server: shippedWarn, tokens: sharedTokens, enforces: true },
    { variant: 'authn-only', server: authnOnly, tokens: await signTokens(authnOnly), enforces: false, counts: true },
    { variant: 'project', server: project, tokens: await signTokens(project), enforces: true, counts: true },
  ];
  const pgTarget: Target | undefined = shippedPg ? { variant: 'shipped-pg', server: shippedPg, tokens: sharedTokens, enforces: true } : undefined;
  const freshTarget: Target = { variant: 'project', server: projectFresh, tokens: await signTokens(projectFresh), enforces: true };
  const clusterTarget: Target = { variant: 'project', server: cluster, tokens: await signTokens(cluster), enforces: true };

  await preflight([...targets, ...(pgTarget ? [pgTarget] : []), clusterTarget]);
  log('preflight: every server answers Q1–Q4 correctly');
  const statements = await countStatements(targets);
  log(`SQL statements per Q2 request: ${statements.map((r) => `first ${r.first}: ${Object.entries(r.counts).map(([v, n]) => `${v} ${n}`).join(', ')}`).join(' | ')}`);

  log('throughput:');
  const rows: ThroughputRow[] = [];
  for (const operation of QUERIES) {
    // Servers without the authorization layer answer Q4 exactly as Q2 (they never check scopes): Q4 runs on those that enforce it.
    const group = targets.filter((t) => operation.id !== 'Q4' || t.enforces);
    const measured = await cells(operation, group, (t) => `${operation.id} ${t.variant}`);
    const byServer: Partial<Record<Variant, Cell>> = {};
    for (const [t, c] of measured) byServer[t.variant] = c;
    const baselineFrom = operation.id === 'Q4' ? 'plain Apollo Q2' : undefined;
    const baselineCell = operation.id === 'Q4' ? rows.find((r) => r.query === 'Q2')?.cells.apollo : byServer.apollo;
    rows.push({ query: operation.id, title: operation.title, cells: byServer, ...(baselineFrom ? { baselineFrom } : {}), baselineCell });
  }

  log('workloads:');
  const users = targets.filter((t) => ['apollo', 'mercurius', 'shipped', 'shipped-warn'].includes(t.variant));
  const workload = async (operation: Operation, group: readonly Target[], pools: Pools = {}) => {
    const measured = await cells(operation, group, (t) => `${operation.id} ${t.variant}`, pools);
    const byServer: Partial<Record<Variant, Cell>> = {};
    for (const [t, c] of measured) byServer[t.variant] = c;
    rows.push({ query: operation.id, title: operation.title, cells: byServer, baselineCell: byServer.apollo });
  };
  log(`  signing ${FRESH_TOKENS.toLocaleString('en-US')} never-seen ES256 tokens…`);
  const user = BENCH_USERS[0];
  const fresh = await Promise.all(Array.from({ length: FRESH_TOKENS }, () => sharedIssuer.sign({ sub: user.subject, name: user.name, scope: 'read:profile read:orders', expiresInSec: 4 * 3600 })));
  await workload({ ...Q1, id: 'Q1 fresh ES256 tokens', title: `Q1, a token never seen before on every request (pool of ${FRESH_TOKENS.toLocaleString('en-US')})` }, users, { tokens: fresh });
  log(`  signing one token for each of ${MANY_USERS.toLocaleString('en-US')} users…`);
  const manyTokens = await Promise.all(Array.from({ length: MANY_USERS }, (_, i) => sharedIssuer.sign({ sub: manyUser(i).subject, name: manyUser(i).name, scope: 'read:profile read:orders', expiresInSec: 4 * 3600 })));
  await workload(manyUsersQ2, users, { tokens: manyTokens });
  const documents = manyDocuments(DOCUMENTS);
  await workload(documents.operation, users, { bodies: documents.bodies });
  for (const first of [1, 100]) await workload(ordersQuery(first), users);
  if (pgTarget) {
    for (const operation of QUERIES) {
      const measured = await cells(operation, [pgTarget], () => `${operation.id} shipped on PostgreSQL`);
      const sqlite = rows.find((r) => r.query === operation.id);
      rows.push({ query: `${operation.id} PostgreSQL`, title: `${operation.title} on PostgreSQL`, cells: { 'shipped-pg': measured.get(pgTarget)! }, baselineFrom: `plain Apollo ${operation.id === 'Q4' ? 'Q2' : operation.id} on SQLite`, baselineCell: sqlite?.baselineCell });
    }
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
  log(`subscriptions: event fan-out to ${FANOUT_SUBSCRIBERS} subscribers, ${FANOUT_ORDERS} orders…`);
  const fanout = await eventFanOut();
  const report = `${renderReport(info, rows, statements, memory, clusterReport)}\n\n${fanout}`;
  log(`\n${report}\n`);

  const shippedRss = await shipped.stats();
  log(`as shipped: RSS ${(shippedRss.rss / 2 ** 20).toFixed(1)} MB at the end of its cells (after ${DOCUMENTS} documents in rotation)`);

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

const FANOUT_SUBSCRIBERS = 1000;
const FANOUT_ORDERS = quick ? 5 : 30;

/**
 * Subscriptions (issue 13): `bench/subscriptions-bench.ts` in a process of its own, on the embedded
 * SQLite database as `npm start` runs it: events per second delivered to every subscriber, and
 * the latency from sending each mutation (an upper bound on its commit) to each delivery.
 */
async function eventFanOut(): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/subscriptions-bench.ts', String(FANOUT_SUBSCRIBERS), String(FANOUT_ORDERS)], { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.trim().split('\n').at(-1) ?? '{}';
  const r = JSON.parse(line) as { subscribers: number; orders: number; delivered: number; eventsPerSecond: number; latencyMs: { p50: string; p99: string; max: string } };
  log(`  ${r.delivered} events delivered, ${r.eventsPerSecond} events/s, latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`);
  return [
    '### Subscriptions: event fan-out',
    '',
    `\`npx tsx bench/subscriptions-bench.ts ${r.subscribers} ${r.orders}\` (run by \`npm run bench\`): ${r.subscribers} \`orderEvents\` subscribers (one WebSocket each, an \`admin:orders\` token) on one server as \`npm start\` runs it (SQLite, logs on), ${r.orders} orders placed one after another over HTTP.`,
    '',
    '| events delivered | events/s | send → delivery p50 ms | p99 ms | max ms |',
    '|--:|--:|--:|--:|--:|',
    `| ${r.delivered} | ${r.eventsPerSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} |`,
  ].join('\n');
}

/** Run at exit: temporary folders and databases of this run. */
const cleanups: Array<() => void | Promise<void>> = [];

/** A database of this run's own on BENCH_DATABASE_URL's server (dropped at the end), or undefined without it. */
async function createPgDatabase(): Promise<string | undefined> {
  const admin = process.env['BENCH_DATABASE_URL'];
  if (!admin) return undefined;
  const name = `bench_${process.pid}_${Date.now()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await Promise.resolve(cleanup()).catch(() => undefined);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers…\n`);
    stopAll()
      .then(runCleanups)
      .finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

main()
  .then(async (code) => {
    await stopAll();
    await runCleanups();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll();
    await runCleanups();
    process.exit(1);
  });

