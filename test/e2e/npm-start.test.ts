import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../fixtures/http-server.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 120_000; // the build (tsc) comes first

/** The command line of a running process (Linux). */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');

describe('npm start, exactly as a newcomer runs it', () => {
  it('builds the compiled server, runs it with plain node, accepts a token from npm run token and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rs-npm-start-'));
    const { NODE_OPTIONS: _jestOptions, ...parentEnv } = process.env;
    const env = { ...parentEnv, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir };
    const npm = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    npm.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s: ${out.slice(-2000)}`)), READY_TIMEOUT_MS);
        const poll = setInterval(() => {
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue; // npm's own lines
            const entry = JSON.parse(line) as { url?: unknown; pid?: unknown; msg?: unknown };
            if (typeof entry.url === 'string' && typeof entry.pid === 'number' && String(entry.msg).startsWith('GraphQL API ready')) {
              clearInterval(poll);
              clearTimeout(timer);
              resolve({ url: entry.url, pid: entry.pid });
            }
          }
        }, 100);
        void exited.then((code) => {
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`npm start exited (${code}) before the server was ready: ${out.slice(-2000)}`));
        });
      });

      // The compiled build, not the TypeScript loader: what runs is `node dist/main.js`.
      expect(existsSync(path.join(PROJECT_ROOT, 'dist', 'main.js'))).toBe(true);
      const argv = commandLine(ready.pid);
      expect(argv.at(-1)).toBe('dist/main.js');
      expect(argv.join(' ')).not.toContain('tsx');

      // A token from `npm run token` in the same folder (the CLI reads what the server recorded in DATA_DIR).
      const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--sub', 'nina', '--scope', 'read:profile', '--name', 'Nina'], { cwd: PROJECT_ROOT, env });
      const token = stdout.trim().split('\n').pop()!;
      const response = await fetch(ready.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { displayName } }' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { me: { displayName: 'Nina' } } });

      // SIGTERM to npm reaches the server (the script execs node): it drains and exits, leaving no process behind.
      npm.kill('SIGTERM');
      await exited;
      const deadline = Date.now() + 15_000;
      while (existsSync(`/proc/${ready.pid}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(existsSync(`/proc/${ready.pid}`)).toBe(false);
      expect(out).toContain('shutting down');
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, READY_TIMEOUT_MS + 60_000);
});
