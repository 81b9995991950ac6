import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../fixtures/http-server.js';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';

const run = promisify(execFile);
const TIMEOUT_MS = 180_000; // the build (tsc) comes first

/** The command line of a running process (Linux). */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');

/** Process ids of the server processes that said they are ready (one per cluster worker). */
function readyPids(server: ServerProcess): number[] {
  const pids = new Set<number>();
  for (const line of server.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: unknown; msg?: unknown };
    if (typeof entry.pid === 'number' && String(entry.msg).startsWith('GraphQL API ready')) pids.add(entry.pid);
  }
  return [...pids];
}

/** A token from `npm run token` in the same folder (the CLI reads what the server recorded in DATA_DIR), and `me` answered with it. */
async function expectMeWithCliToken(server: ServerProcess): Promise<void> {
  const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--sub', 'nina', '--scope', 'read:profile', '--name', 'Nina'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', DATA_DIR: server.dataDir },
  });
  const token = stdout.trim().split('\n').pop()!;
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { displayName } }' }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ data: { me: { displayName: 'Nina' } } });
}

/** SIGTERM to npm reaches the server (the scripts exec node): it drains and exits, leaving no process behind. */
async function expectStopsOnSigterm(server: ServerProcess, pids: number[]): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited();
  const deadline = Date.now() + 15_000;
  while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
  expect(server.output()).toContain('shutting down');
}

describe('the package scripts, exactly as a newcomer runs them', () => {
  it(
    'npm start builds the server, runs it with plain node, accepts a token from npm run token and stops on SIGTERM',
    async () => {
      const server = await startServerProcess({ NODE_ENV: 'development' }, { launcher: 'npm' });
      try {
        // The compiled build, not the TypeScript loader: what runs is `node dist/main.js`.
        expect(existsSync(path.join(PROJECT_ROOT, 'dist', 'main.js'))).toBe(true);
        const pids = readyPids(server);
        expect(pids).toHaveLength(1);
        const argv = commandLine(pids[0]!);
        expect(argv.at(-1)).toBe('dist/main.js');
        expect(argv.join(' ')).not.toContain('tsx');
        await expectMeWithCliToken(server);
        await expectStopsOnSigterm(server, pids);
      } finally {
        server.cleanUp();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'npm run start:cluster runs the compiled workers, which answer and all stop on SIGTERM',
    async () => {
      const server = await startServerProcess({ NODE_ENV: 'development', WORKERS: '2' }, { launcher: 'npm', entry: 'cluster', workers: 2 });
      try {
        const pids = readyPids(server);
        expect(pids).toHaveLength(2);
        for (const pid of pids) expect(commandLine(pid).join(' ')).toMatch(/dist\/main\.js$/);
        await expectMeWithCliToken(server);
        await expectStopsOnSigterm(server, pids);
      } finally {
        server.cleanUp();
      }
    },
    TIMEOUT_MS,
  );
});
