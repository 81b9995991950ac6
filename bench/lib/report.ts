/**
 * The benchmark's tables (Markdown, printed and written to docs/BENCHMARKS.md after a full run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Variant } from './protocol.js';
import type { LoadResult } from './load.js';

export const SERVER_LABELS: Record<Variant, string> = {
  baseline: 'baseline',
  'no-authz': 'no-authz',
  'authn-only': 'authn-only',
  project: 'project (in process, logs off)',
  shipped: 'project as shipped (`npm start`)',
  'shipped-warn': 'project, LOG_LEVEL=warn',
  'shipped-pg': 'project as shipped, PostgreSQL',
  apollo: 'plain Apollo + Fastify (baseline)',
  mercurius: 'Mercurius + jit + mercurius-auth',
};

/** A measured cell, or why it was aborted. */
export type Cell = { readonly ok: true; readonly result: LoadResult } | { readonly ok: false; readonly error: string };

export interface ThroughputRow {
  readonly query: string;
  readonly title: string;
  readonly cells: Partial<Record<Variant, Cell>>;
  /** Which baseline cell the ratio uses, when not the same query (Q4: the baseline ignores tokens). */
  readonly baselineFrom?: string;
  readonly baselineCell: Cell | undefined;
}

export interface StatementRow {
  readonly first: number;
  readonly returned: number;
  readonly counts: Partial<Record<Variant, number>>;
}

export interface MemoryReport {
  readonly durationSec: number;
  /** Interval of the RSS samples in `series`, seconds. */
  readonly everySec: number;
  readonly start: { rss: number; heapUsed: number };
  readonly startAfterGc: { rss: number; heapUsed: number };
  readonly end: { rss: number; heapUsed: number };
  readonly endAfterGc: { rss: number; heapUsed: number };
  /** RSS sampled during the run. */
  readonly series: readonly number[];
  readonly peakRss: number;
  readonly load: Cell;
}

export interface ClusterReport {
  readonly workers: number;
  readonly cell: Cell;
  readonly single: Cell | undefined;
}

export interface RunInfo {
  readonly mode: 'full' | 'quick';
  readonly command: string;
  readonly date: string;
  readonly nproc: number;
  readonly cpu: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly commit: string;
  readonly connections: number;
  readonly warmupSec: number;
  readonly measureSec: number;
  readonly rounds: number;
  readonly executors: Partial<Record<Variant, string>>;
  readonly elapsedSec: number;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const ms = (n: number) => fmt(n, n < 10 ? 2 : 1);
const mb = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MB`;
const times = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : '—');
const ratio = (a: Cell | undefined, b: Cell | undefined) => (a?.ok && b?.ok ? times(a.result.rps / b.result.rps) : '—');
const pct = (a: Cell | undefined, b: Cell | undefined) => (a?.ok && b?.ok ? `${fmt((1 - a.result.rps / b.result.rps) * 100, 1)} %` : '—');

/** The spread of the overhead over the rounds, e.g. " (rounds 1.2 – 6.0 %)". */
function roundRange(a: Cell | undefined, b: Cell | undefined): string {
  if (!a?.ok || !b?.ok || a.result.roundRps.length < 2 || a.result.roundRps.length !== b.result.roundRps.length) return '';
  const losses = a.result.roundRps.map((x, i) => (1 - x / b.result.roundRps[i]!) * 100);
  return ` (rounds ${fmt(Math.min(...losses), 1)} to ${fmt(Math.max(...losses), 1)} %)`;
}

function cellColumns(cell: Cell | undefined): string[] {
  if (cell === undefined) return ['—', '—', '—', '—', '—'];
  if (!cell.ok) return [`**aborted**: ${cell.error.replace(/\|/g, '\\|').slice(0, 160)}`, '', '', '', ''];
  return [fmt(cell.result.rps), ms(cell.result.p50), ms(cell.result.p99), fmt(cell.result.cpuPerRequestUs), fmt(cell.result.gcPerRequestUs, 1)];
}

/**
 * The median over the rounds of each round's throughput ratio. The rounds visit the servers in
 * turn, so round i of two servers ran close in time: pairing them cancels drift of a shared
 * machine that the ratio of whole-window totals keeps.
 */
function pairedRatio(a: Cell | undefined, b: Cell | undefined): string {
  if (!a?.ok || !b?.ok || a.result.roundRps.length < 2 || a.result.roundRps.length !== b.result.roundRps.length) return '—';
  const ratios = a.result.roundRps.map((x, i) => x / b.result.roundRps[i]!).sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  return times(ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2);
}

/** How many times less server CPU per response than the baseline's. */
const cpuRatio = (a: Cell | undefined, b: Cell | undefined) => (a?.ok && b?.ok ? times(b.result.cpuPerRequestUs / a.result.cpuPerRequestUs) : '—');

export function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export function machine(): Pick<RunInfo, 'nproc' | 'cpu' | 'memoryGb' | 'node'> {
  return { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model.trim() ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}

export function renderReport(info: RunInfo, rows: readonly ThroughputRow[], statements: readonly StatementRow[], memory: MemoryReport | undefined, cluster: ClusterReport | undefined): string {
  const out: string[] = [];
  out.push(
    `Produced by \`${info.command}\` (${info.mode} run, ${fmt(info.elapsedSec)} s) on ${info.date}: ${info.nproc} CPUs (\`nproc\`), ${info.cpu}, ${info.memoryGb} GB, Node ${info.node}, commit ${info.commit}.`,
    `autocannon in the parent process, ${info.connections} connections, ${info.warmupSec} s warm-up then ${info.measureSec} s measured per cell${info.rounds > 1 ? ` in ${info.rounds} rounds of ${fmt(info.measureSec / info.rounds, 1)} s that visit the servers in turn` : ''}; every server is a separate process on 127.0.0.1 with its own SQLite database holding the same data (200 products, 2 users × 50 orders × 3 items; the workloads' four servers also 1,000 users × 20 orders × 3 items).`,
    `Executors: ${Object.entries(info.executors)
      .map(([variant, executor]) => `${variant} ${executor}`)
      .join('; ')}.`,
    '',
    '### Throughput and latency',
    '',
    '| query | server | req/s | p50 ms | p99 ms | server CPU µs/req | GC pauses µs/req | vs plain Apollo (req/s) | vs plain Apollo (req/s, median of paired rounds) | vs plain Apollo (CPU/req) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const row of rows) {
    for (const [variant, cell] of Object.entries(row.cells) as [Variant, Cell][]) {
      // The baseline against itself: 1.00× in every column (when it was measured).
      const own = variant === 'apollo' && !row.baselineFrom ? (cell.ok ? '1.00×' : '—') : undefined;
      const vs = own ?? ratio(cell, row.baselineCell);
      const vsCpu = own ?? cpuRatio(cell, row.baselineCell);
      // Q4's baseline cell was measured in other rounds (Q2's): nothing to pair with.
      const vsPaired = own ?? (row.baselineFrom ? '—' : pairedRatio(cell, row.baselineCell));
      const from = row.baselineFrom && variant !== 'apollo' ? ` (vs ${row.baselineFrom})` : '';
      out.push(`| ${row.query} | ${SERVER_LABELS[variant]} | ${cellColumns(cell).join(' | ')} | ${vs}${from} | ${vsPaired} | ${vsCpu} |`);
    }
  }
  out.push(
    '',
    '### Authorization overhead (throughput lost, project against the same build without the layer)',
    '',
    '| query | project req/s | authn-only req/s | no-authz req/s | authorization layer (vs authn-only) | authentication + authorization (vs no-authz) | authorization layer, server CPU per request |',
    '|---|--:|--:|--:|--:|--:|--:|',
  );
  const cpuExtra = (a: Cell | undefined, b: Cell | undefined) => {
    const extra = a?.ok && b?.ok ? a.result.cpuPerRequestUs / b.result.cpuPerRequestUs - 1 : NaN;
    return Number.isFinite(extra) && a?.ok && b?.ok ? `${fmt(extra * 100, 1)} % (${fmt(a.result.cpuPerRequestUs)} vs ${fmt(b.result.cpuPerRequestUs)} µs)` : '—';
  };
  for (const row of rows) {
    const { project, 'authn-only': authn, 'no-authz': plain } = row.cells;
    if (authn === undefined || project === undefined) continue;
    const rps = (c: Cell | undefined) => (c?.ok ? fmt(c.result.rps) : '—');
    out.push(`| ${row.query} | ${rps(project)} | ${rps(authn)} | ${rps(plain)} | ${pct(project, authn)}${roundRange(project, authn)} | ${pct(project, plain)}${roundRange(project, plain)} | ${cpuExtra(project, authn)} |`);
  }
  out.push(
    '',
    '### The project against Mercurius + graphql-jit + mercurius-auth, and its logs\' cost',
    '',
    '| query | as shipped vs Mercurius (req/s) | median of paired rounds | CPU per response | as shipped vs LOG_LEVEL=warn (req/s) | median of paired rounds | CPU per response |',
    '|---|--:|--:|--:|--:|--:|--:|',
  );
  for (const row of rows) {
    const { shipped, mercurius: peer, 'shipped-warn': warn } = row.cells;
    if (shipped === undefined || (peer === undefined && warn === undefined)) continue;
    out.push(`| ${row.query} | ${ratio(shipped, peer)} | ${pairedRatio(shipped, peer)} | ${cpuRatio(shipped, peer)} | ${ratio(shipped, warn)} | ${pairedRatio(shipped, warn)} | ${cpuRatio(shipped, warn)} |`);
  }
  const variants = [...new Set(statements.flatMap((s) => Object.keys(s.counts) as Variant[]))];
  out.push('', '### SQL statements per request, Q2 by page size', '', `| orders(first:) | orders returned | ${variants.map((v) => SERVER_LABELS[v]).join(' | ')} |`, `|--:|--:|${variants.map(() => '--:|').join('')}`);
  for (const row of statements) out.push(`| ${row.first} | ${row.returned} | ${variants.map((v) => String(row.counts[v] ?? '—')).join(' | ')} |`);
  if (memory) {
    out.push(
      '',
      `### Memory under sustained load (project, Q2, ${fmt(memory.durationSec)} s, fresh process)`,
      '',
      '| | RSS | heap used |',
      '|---|--:|--:|',
      `| start: started, seeded, idle | ${mb(memory.start.rss)} | ${mb(memory.start.heapUsed)} |`,
      `| start, after a full GC | ${mb(memory.startAfterGc.rss)} | ${mb(memory.startAfterGc.heapUsed)} |`,
      `| end of the run | ${mb(memory.end.rss)} | ${mb(memory.end.heapUsed)} |`,
      `| end, after a full GC | ${mb(memory.endAfterGc.rss)} | ${mb(memory.endAfterGc.heapUsed)} |`,
      `| peak RSS sampled | ${mb(memory.peakRss)} | |`,
      '',
      `RSS every ${fmt(memory.everySec)} s during the run (MB): ${memory.series.map((b) => fmt(b / 2 ** 20)).join(', ') || '—'}.`,
      '',
      memory.load.ok
        ? `${fmt(memory.load.result.requests)} requests, ${fmt(memory.load.result.rps)} req/s, p50 ${ms(memory.load.result.p50)} ms, p99 ${ms(memory.load.result.p99)} ms.`
        : `Load aborted: ${memory.load.error}`,
    );
  }
  if (cluster) {
    out.push('', `### node:cluster, Q2 on the project`, '', '| processes | req/s | p50 ms | p99 ms | server CPU µs/req (all processes) | GC pauses µs/req | vs 1 process |', '|---|--:|--:|--:|--:|--:|--:|');
    out.push(`| 1 (from the table above) | ${cellColumns(cluster.single).join(' | ')} | 1.00× |`);
    out.push(`| ${cluster.workers} workers (bench/cluster.ts) | ${cellColumns(cluster.cell).join(' | ')} | ${ratio(cluster.cell, cluster.single)} |`);
  }
  out.push('', ...renderTargets(rows, statements, memory));
  return out.join('\n');
}

/** Issue 14's targets (and issue 5's layer and memory ones) against this run's figures (ratios of req/s over the whole window, as the issue defines them). */
function renderTargets(rows: readonly ThroughputRow[], statements: readonly StatementRow[], memory: MemoryReport | undefined): string[] {
  const out = ['### Against the targets (this run)', '', '| target | measured | met |', '|---|---|:-:|'];
  const mark = (ok: boolean) => (ok ? 'yes' : 'no');
  for (const row of rows) {
    const { shipped, mercurius: peer } = row.cells;
    if (!shipped?.ok || !peer?.ok) continue;
    out.push(`| ${row.query}: as shipped ahead of Mercurius + mercurius-auth | ${ratio(shipped, peer)} (paired rounds ${pairedRatio(shipped, peer)}; CPU per response ${cpuRatio(shipped, peer)}) | ${mark(shipped.result.rps > peer.result.rps)} |`);
  }
  for (const row of rows) {
    const { shipped, 'shipped-warn': warn } = row.cells;
    if (row.query !== 'Q1' || !shipped?.ok || !warn?.ok) continue;
    out.push(`| Q1: as shipped within 3 % of LOG_LEVEL=warn | ${pct(shipped, warn)} lost${roundRange(shipped, warn)}; CPU per response ${fmt(shipped.result.cpuPerRequestUs)} vs ${fmt(warn.result.cpuPerRequestUs)} µs | ${mark(shipped.result.rps / warn.result.rps >= 0.97)} |`);
  }
  for (const row of rows) {
    const { project, 'authn-only': authn } = row.cells;
    if (!project?.ok || !authn?.ok) continue;
    out.push(`| ${row.query} authorization layer ≤ 5 % | ${pct(project, authn)} | ${mark(project.result.rps / authn.result.rps >= 0.95)} |`);
  }
  const counts = statements.map((s) => s.counts.project).filter((n): n is number => n !== undefined);
  if (counts.length > 0) out.push(`| statements per request constant over page sizes ${statements.map((s) => s.first).join(', ')} | ${counts.join(', ')} | ${mark(counts.every((n) => n === counts[0]))} |`);
  if (memory && memory.series.length >= 4) {
    // Flat under load: the RSS samples of the second half of the run against those of the first
    // (start-to-end RSS mostly shows the young generation filling up), and the heap after a full GC.
    const half = memory.series.length >> 1;
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const drift = mean(memory.series.slice(half)) / mean(memory.series.slice(0, half)) - 1;
    const heapGrowth = memory.endAfterGc.heapUsed / memory.startAfterGc.heapUsed - 1;
    out.push(
      `| memory flat under sustained load | RSS ${mb(memory.start.rss)} idle → ${mb(memory.end.rss)} at the end; mean RSS of the run's second half ${fmt(drift * 100, 1)} % against its first; heap after a full GC ${mb(memory.startAfterGc.heapUsed)} → ${mb(memory.endAfterGc.heapUsed)} | ${mark(drift <= 0.1 && heapGrowth <= 0.25)} |`,
    );
  }
  return out;
}

const START = '<!-- bench:results:start (written by bench/run.ts; do not edit by hand) -->';
const END = '<!-- bench:results:end -->';

/** Replaces the generated section of docs/BENCHMARKS.md (creating the file with a short preamble when needed). */
export function writeDocs(file: string, report: string): void {
  const section = `${START}\n${report}\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}`
      : `${current || '# Benchmarks\n\n'}\n## Latest results\n\n${section}\n`;
  writeFileSync(file, next);
}
