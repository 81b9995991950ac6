/**
 * `npm run bench:focus`: a few cells of `npm run bench`, quickly, with the server's CPU split by
 * thread. The server as `npm start` starts it (compiled, logs on, default settings), beside
 * configurations of it and Mercurius + graphql-jit + mercurius-auth (the peer), in alternating
 * rounds. Prints, per cell and server, the median req/s of the rounds (and their range) and the
 * CPU per response of the main thread (where JavaScript runs: what bounds throughput) and of
 * all other threads (libuv's pool, where signatures are checked, and V8's helpers).
 *
 * Environment: CELLS (comma-separated, of Q1 Q2 Q3 Q4 fresh users docs; default `Q1,fresh,Q4`),
 * VARIANTS (JSON object of name → extra server variables; default
 * `{"shipped":{},"warn":{"LOG_LEVEL":"warn"}}`), PEER (0: without Mercurius), ROUNDS (4), SEC (4 s
 * per round), CONNECTIONS (32), BENCH_NODE_ARGS (extra node options for every server, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`), TOKEN_ALG (`ES256`, the development issuer's default, or
 * `RS256`: every server then trusts an RSA key, and every token, fresh or not, is RS256). Figures
 * are printed, never asserted.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { loadOrCreateDevIssuer } from '../src/dev-issuer/dev-issuer.js';
import { buildForBench } from './lib/build.js';
import { type ServerProcess, benchDataDir, killAllNow, startServer, stopAll, threadCpuMicros } from './lib/children.js';
import { CellError, drive } from './lib/load.js';
import type { TokenSettings } from './lib/protocol.js';
import { type Operation, Q1, Q2, Q3, Q4, manyDocuments, manyUsersQ2 } from './lib/queries.js';
import { BENCH_USERS, MANY_USERS, manyUser } from './lib/seed.js';
import { PROJECT_ROOT, benchEnv, tokenSettings } from './lib/servers.js';
import { startSeededShipped } from './lib/shipped.js';

const cellNames = (process.env['CELLS'] ?? 'Q1,fresh,Q4').split(',').map((c) => c.trim()).filter((c) => c !== '');
const variants = JSON.parse(process.env['VARIANTS'] ?? '{"shipped":{},"warn":{"LOG_LEVEL":"warn"}}') as Record<string, Record<string, string>>;
const withPeer = process.env['PEER'] !== '0';
const rounds = Number(process.env['ROUNDS'] ?? 4);
const seconds = Number(process.env['SEC'] ?? 4);
const connections = Number(process.env['CONNECTIONS'] ?? 32);
const tokenAlg = process.env['TOKEN_ALG'] ?? 'ES256';
const FRESH_TOKENS = 20_000; // larger than the verified-token cache (10,000), as in npm run bench

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Target {
  readonly name: string;
  readonly server: ServerProcess;
  readonly enforces: boolean;
}

interface Cell {
  readonly operation: Operation;
  readonly tokens?: readonly string[];
  readonly bodies?: readonly string[];
}

interface Round {
  readonly rps: number;
  readonly mainUs: number;
  readonly othersUs: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const known = new Set(['Q1', 'Q2', 'Q3', 'Q4', 'fresh', 'users', 'docs']);
  for (const name of cellNames) if (!known.has(name)) throw new Error(`CELLS: unknown cell ${JSON.stringify(name)} (known: ${[...known].join(', ')})`);
  log('building dist/ (as npm start does) and the peer (.bench-build/)…');
  buildForBench();
  const sharedDir = benchDataDir('issuer');
  const shared: TokenSettings = tokenSettings(loadConfig(benchEnv(sharedDir), PROJECT_ROOT));
  if (tokenAlg === 'RS256') {
    // The development issuer signs with whatever private JWK its key file holds (RS256 for RSA).
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    writeFileSync(shared.keyFile, JSON.stringify({ ...jwk, alg: 'RS256', kid: 'bench-rs256' }), { mode: 0o600 });
  } else if (tokenAlg !== 'ES256') {
    throw new Error(`TOKEN_ALG: ${JSON.stringify(tokenAlg)} is neither ES256 nor RS256`);
  }
  const issuer = await loadOrCreateDevIssuer(shared);
  const user = BENCH_USERS[0];
  const sign = (scope: string) => issuer.sign({ sub: user.subject, name: user.name, scope, expiresInSec: 4 * 3600 });
  const full = await sign('read:profile read:orders');
  const profileOnly = await sign('read:profile');
  try {
    const targets: Target[] = [];
    for (const [name, env] of Object.entries(variants)) targets.push({ name, server: await startSeededShipped(name, 'shipped', shared, env), enforces: true });
    if (withPeer) targets.push({ name: 'mercurius', server: await startServer('mercurius', 'server-child.ts', ['mercurius'], { env: { BENCH_TOKENS: JSON.stringify(shared) }, timeoutMs: 180_000 }), enforces: true });
    log(`servers: ${targets.map((t) => `${t.name} ${t.server.ready.url}`).join(', ')}; ${connections} connections, ${rounds} rounds of ${seconds} s`);

    const cells: Record<string, () => Promise<Cell>> = {
      Q1: async () => ({ operation: Q1 }),
      Q2: async () => ({ operation: Q2 }),
      Q3: async () => ({ operation: Q3 }),
      Q4: async () => ({ operation: Q4 }),
      fresh: async () => ({ operation: { ...Q1, id: `Q1 fresh ${tokenAlg} tokens` }, tokens: await Promise.all(Array.from({ length: FRESH_TOKENS }, () => sign('read:profile read:orders'))) }),
      users: async () => ({
        operation: manyUsersQ2,
        tokens: await Promise.all(Array.from({ length: MANY_USERS }, (_, i) => issuer.sign({ sub: manyUser(i).subject, name: manyUser(i).name, scope: 'read:profile read:orders', expiresInSec: 4 * 3600 }))),
      }),
      docs: async () => {
        const documents = manyDocuments(1000);
        return { operation: documents.operation, bodies: documents.bodies };
      },
    };
    for (const name of cellNames) {
      const cell = await cells[name]!();
      const token = cell.operation.credentials === 'none' ? undefined : cell.operation.credentials === 'full' ? full : profileOnly;
      const results = new Map<Target, Round[]>(targets.map((t) => [t, []]));
      const run = async (t: Target, durationSec: number, record: boolean) => {
        const pid = t.server.ready.pid;
        const before = threadCpuMicros(pid);
        const r = await drive({ endpoint: t.server.endpoint, operation: cell.operation, token, enforcesAuthorization: t.enforces, connections, durationSec, ...(cell.tokens ? { tokens: cell.tokens } : {}), ...(cell.bodies ? { bodies: cell.bodies } : {}) });
        const after = threadCpuMicros(pid);
        if (record) results.get(t)!.push({ rps: r.requests / r.durationSec, mainUs: (after.main - before.main) / r.requests, othersUs: (after.others - before.others) / r.requests });
      };
      for (const t of targets) await run(t, 2, false);
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < targets.length; i++) await run(targets[(i + round) % targets.length]!, seconds, true);
      }
      log(`${cell.operation.id}:`);
      for (const t of targets) {
        const rs = results.get(t)!;
        const rps = rs.map((r) => r.rps);
        log(
          `  ${t.name.padEnd(12)} ${median(rps).toFixed(0).padStart(6)} req/s (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})  CPU µs/response: main ${median(rs.map((r) => r.mainUs)).toFixed(1).padStart(6)}, other threads ${median(rs.map((r) => r.othersUs)).toFixed(1).padStart(6)}`,
        );
      }
    }
  } finally {
    await stopAll();
    rmSync(sharedDir, { recursive: true, force: true });
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll().finally(() => process.exit(130)));
main().catch((error: unknown) => {
  process.stderr.write(`bench:focus failed: ${error instanceof CellError ? `a wrong response: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void stopAll().finally(() => process.exit(1));
});
