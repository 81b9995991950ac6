import { describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FATAL_ON_SIGNAL = fileURLToPath(new URL('../fixtures/fatal-on-signal.ts', import.meta.url));
const REQUESTS = 300;

type Line = Record<string, unknown>;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every stdout line so far, parsed. */
  readonly lines: () => Line[];
  readonly exited: Promise<number | null>;
}

/** `src/main.ts` as `npm start` runs it (default logging, stdout a pipe), in its own data folder. */
async function startMain(dataDir: string): Promise<Started> {
  const { NODE_OPTIONS: _jestOptions, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', FATAL_ON_SIGNAL, path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line);
  const url = await new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const ready = lines().find((l) => typeof l['url'] === 'string');
      if (ready) {
        clearInterval(poll);
        resolve(String(ready['url']));
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(poll);
      reject(new Error(`server exited (${code}) before it was ready: ${err}`));
    });
  });
  return { child, url, lines, exited };
}

async function sendRequests(graphqlUrl: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, async (_, j) => {
        const response = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `r-${i + j}` }, body: JSON.stringify({ query: '{ products(first: 1) { edges { node { name } } } }' }) });
        await response.text();
      }),
    );
  }
}

const accessIds = (lines: Line[]) => new Set(lines.filter((l) => l['msg'] === 'request').map((l) => l['reqId']));

describe('access log of the server process', () => {
  it('has every request in its output after SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rs-access-'));
    try {
      const server = await startMain(dataDir);
      await sendRequests(server.url, REQUESTS);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      const ids = accessIds(server.lines());
      expect(ids.size).toBe(REQUESTS);
      for (let i = 0; i < REQUESTS; i++) expect(ids.has(`r-${i}`)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps serving when its stdout\'s reader goes away, and still stops cleanly', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rs-access-'));
    try {
      const server = await startMain(dataDir);
      server.child.stdout!.destroy(); // every line from here on meets EPIPE
      await sendRequests(server.url, 60);
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ products(first: 1) { edges { node { name } } } }' }) });
      expect(response.status).toBe(200);
      expect(server.child.exitCode).toBeNull();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('writes a fatal error and every access line before it, then exits 1', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rs-access-'));
    try {
      const server = await startMain(dataDir);
      await sendRequests(server.url, REQUESTS);
      server.child.kill('SIGUSR2');
      expect(await server.exited).toBe(1);
      const lines = server.lines();
      expect(accessIds(lines).size).toBe(REQUESTS);
      const fatal = lines.filter((l) => l['level'] === 60);
      expect(fatal).toHaveLength(1);
      expect((fatal[0]!['err'] as { message?: string } | undefined)?.message).toBe('fatal error raised by the test');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
