/**
 * Server processes of the HTTP benchmark, seen from the parent: forked with an IPC channel, each
 * with its own temporary data folder, tracked so that every one of them is stopped at the end,
 * on an error and on SIGINT/SIGTERM.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParentMessage, type ReadyMessage, type StatsMessage, isChildMessage } from './protocol.js';

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
    post(child, { type: 'shutdown' });
    const timer = setTimeout(() => {
      if (!exited(child)) child.kill('SIGKILL');
    }, graceMs);
    await gone;
    clearTimeout(timer);
  }
  tracked.delete(entry);
  rmSync(entry.dataDir, { recursive: true, force: true });
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

/**
 * Forks `bench/<script>` (under tsx) with `args`, in a fresh data folder, and waits for its
 * `ready` message. The child's stderr is passed through; its stdout (the `listening` line) is
 * kept for error messages.
 */
export async function startServer(
  name: string,
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; exposeGc?: boolean; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const { env = {}, timeoutMs = 90_000 } = options;
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-${name}-`));
  const child = fork(path.join(BENCH_DIR, script), [...args], {
    execArgv: ['--import', 'tsx', ...(options.exposeGc ? ['--expose-gc'] : []), ...extraNodeArgs()],
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
