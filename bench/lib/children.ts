/**
 * Server processes of the HTTP benchmark, seen from the parent: forked with an IPC channel, each
 * with its own temporary data folder, tracked so that every one of them is stopped at the end,
 * on an error and on SIGINT/SIGTERM.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledBenchScript } from './build.js';
import { type ParentMessage, type ReadyMessage, type StatsMessage, type TokenSettings, type Variant, isChildMessage } from './protocol.js';

export interface ServerProcess {
  readonly name: string;
  readonly ready: ReadyMessage;
  /** `${url}/graphql`. */
  readonly endpoint: string;
  /** RSS, heap and SQL statement count, asked over IPC (after a full GC with `gc`, if the child was started with `exposeGc`). */
  stats(options?: { gc?: boolean }): Promise<StatsMessage>;
  stop(): Promise<void>;
}

interface Tracked {
  readonly child: ChildProcess;
  readonly dataDir: string;
  stopped: boolean;
  /** Without an IPC channel (the server as `npm start` runs it): stopped with SIGTERM. */
  readonly signal?: boolean;
}

const tracked = new Set<Tracked>();

/** `BENCH_NODE_ARGS` (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: extra node options for every server process. */
function extraNodeArgs(): string[] {
  return (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
}
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

function post(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopTracked(entry: Tracked, graceMs = 5000): Promise<void> {
  if (entry.stopped) return;
  entry.stopped = true;
  const { child } = entry;
  if (!exited(child)) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (entry.signal) child.kill('SIGTERM');
    else post(child, { type: 'shutdown' });
    const timer = setTimeout(() => {
      if (!exited(child)) child.kill('SIGKILL');
    }, graceMs);
    await gone;
    clearTimeout(timer);
  }
  tracked.delete(entry);
  rmSync(entry.dataDir, { recursive: true, force: true });
}

/** A fresh temporary folder for one server (removed when it stops). */
export function benchDataDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `bench-${name}-`));
}

/** Stops every server process still running (graceful shutdown, then SIGKILL). */
export async function stopAll(): Promise<void> {
  await Promise.all([...tracked].map((entry) => stopTracked(entry)));
}

/** Last resort on process exit: kill synchronously whatever is left. */
export function killAllNow(): void {
  for (const entry of tracked) {
    if (!exited(entry.child)) entry.child.kill('SIGKILL');
    rmSync(entry.dataDir, { recursive: true, force: true });
  }
  tracked.clear();
}

const CLOCK_TICKS_PER_SEC = 100; // getconf CLK_TCK on Linux

/** CPU time (user + system) of a process from /proc, microseconds. */
function procCpuMicros(pid: number): number {
  return threadStatMicros(`/proc/${pid}/stat`);
}

/**
 * CPU time (user + system) of a process's main thread (its JavaScript) and of all its other
 * threads together (libuv's pool, where crypto and file work run, V8's GC and compiler threads),
 * microseconds, from /proc/<pid>/task (Linux).
 */
export function threadCpuMicros(pid: number): { readonly main: number; readonly others: number } {
  const main = threadStatMicros(`/proc/${pid}/task/${pid}/stat`);
  return { main, others: procCpuMicros(pid) - main };
}

function threadStatMicros(file: string): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SEC;
}

function procRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/**
 * The server exactly as `npm start` runs it: `node dist/main.js` (built by bench/lib/build.ts) with the environment given
 * (default settings otherwise), in `dataDir` (seeded by the caller beforehand), its stdout (the
 * logs) going to `dataDir/stdout.log` as a user's file or collector would take them. Ready when
 * it has recorded where it listens (`dataDir/dev-issuer.json`). Stats come from /proc (CPU, RSS; no heap, GC or statement
 * counts: nothing is added to the process).
 */
export async function startShipped(
  name: string,
  variant: Variant,
  dataDir: string,
  env: Record<string, string>,
  tokens: TokenSettings,
  timeoutMs = 90_000,
): Promise<ServerProcess & { readonly logFile: string }> {
  const logFile = path.join(dataDir, 'stdout.log');
  const out = openSync(logFile, 'w');
  const { NODE_OPTIONS: _unused, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [...extraNodeArgs(), 'dist/main.js'], {
    cwd: path.join(BENCH_DIR, '..'),
    env: { PATH: parentEnv['PATH'] ?? '', HOME: parentEnv['HOME'] ?? '', ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const entry: Tracked = { child, dataDir, stopped: false, signal: true };
  tracked.add(entry);
  const started = Date.now();
  let url: string | undefined;
  while (url === undefined) {
    if (exited(child)) throw new Error(`${name} exited before it was ready: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (Date.now() - started > timeoutMs) {
      await stopTracked(entry, 1000);
      throw new Error(`${name}: not ready after ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Written once it listens, whatever LOG_LEVEL says (what `npm run token` reads).
    const recorded = path.join(dataDir, 'dev-issuer.json');
    try {
      if (existsSync(recorded)) url = (JSON.parse(readFileSync(recorded, 'utf8')) as { url: string }).url;
    } catch {
      // Being written: read it again on the next turn.
    }
  }
  const pid = child.pid!;
  const ready: ReadyMessage = { type: 'ready', variant, url, pid, workers: 1, tokens, executor: env['GRAPHQL_EXECUTOR'] ?? 'jit' };
  let nextId = 0;
  return {
    name,
    ready,
    logFile,
    endpoint: `${url}/graphql`,
    async stats() {
      return { type: 'stats', id: ++nextId, rss: procRssBytes(pid), heapUsed: NaN, sqlStatements: NaN, cpuMicros: procCpuMicros(pid), gcMicros: NaN };
    },
    stop: () => stopTracked(entry),
  };
}

/**
 * Forks `bench/<script>`, compiled (bench/lib/build.ts), with `args`, in a fresh data folder, and waits for its
 * `ready` message. The child's stderr is passed through; its stdout (the `listening` line) is
 * kept for error messages.
 */
export async function startServer(
  name: string,
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; exposeGc?: boolean; timeoutMs?: number; dataDir?: string } = {},
): Promise<ServerProcess> {
  const { env = {}, timeoutMs = 90_000 } = options;
  const dataDir = options.dataDir ?? benchDataDir(name);
  const child = fork(compiledBenchScript(script), [...args], {
    execArgv: [...(options.exposeGc ? ['--expose-gc'] : []), ...extraNodeArgs()],
    // NODE_ENV fixed: vanilla Apollo's defaults depend on it.
    env: { ...process.env, NODE_ENV: 'development', ...env, BENCH_DATA_DIR: dataDir, BENCH_OWN_DATA_DIR: '1' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const entry: Tracked = { child, dataDir, stopped: false };
  tracked.add(entry);
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-4000);
  });

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name}: not ready after ${timeoutMs / 1000} s`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      reject(error);
    };
    const onMessage = (message: unknown) => {
      if (!isChildMessage(message)) return;
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      } else if (message.type === 'error') {
        fail(new Error(`${name} failed to start: ${message.message}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`${name} exited before it was ready (${signal ?? code})${stdout ? `; stdout: ${stdout.trim()}` : ''}`));
    child.on('message', onMessage);
    child.on('exit', onExit);
  }).catch(async (error: unknown) => {
    await stopTracked(entry, 1000);
    throw error;
  });

  child.on('message', (message: unknown) => {
    if (isChildMessage(message) && message.type === 'error' && !entry.stopped) process.stderr.write(`${name}: ${message.message}\n`);
  });

  let nextId = 0;
  return {
    name,
    ready,
    endpoint: `${ready.url}/graphql`,
    stats(request = {}) {
      const id = ++nextId;
      return new Promise<StatsMessage>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${name}: no stats reply`));
        }, 10_000);
        const onMessage = (message: unknown) => {
          if (isChildMessage(message) && message.type === 'stats' && message.id === id) {
            clearTimeout(timer);
            child.off('message', onMessage);
            resolve(message);
          }
        };
        child.on('message', onMessage);
        post(child, { type: 'stats', id, ...(request.gc ? { gc: true } : {}) });
      });
    },
    stop: () => stopTracked(entry),
  };
}
