/**
 * `npx tsx bench/ab-checkouts.ts`: the server as `npm start` runs it (`npm run build`, then
 * `node dist/main.js`, default settings, logs on), from two or more checkouts of this repository, under the same load
 * in alternating rounds, so that a change can be measured against the commit before it:
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   ROOTS=/tmp/before,. npx tsx bench/ab-checkouts.ts
 *
 * Environment: ROOTS (comma-separated checkouts; default: this one), QUERY (default: Q3, the
 * anonymous catalog page), TOKEN_ARGS (arguments of each checkout's token CLI, e.g.
 * `--sub bench-user --scope read:profile`, split at spaces, or a JSON array of arguments when a
 * value holds a space, e.g. `["--sub","u","--scope","read:profile read:orders write:orders"]`;
 * the token is sent as a bearer token), ROUNDS (8),
 * SEC (5 s per round), CONNECTIONS (32), SERVER_ENV (JSON object of extra server variables, e.g.
 * `{"LOG_LEVEL":"warn"}`), NODE_ARGS (extra node options; `%i` is replaced by the port, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof/%i`), SEED_ORDERS (orders of three items each that the
 * token's user places through `placeOrder` before the rounds, e.g. 20 for Q2; the token then
 * needs `write:orders`), ALLOW_ERRORS (1: a 200 answer with errors counts, as Q4's does). Prints, per checkout, req/s and the server's CPU
 * time per response (from /proc, Linux), median and range of the rounds. Figures are printed,
 * never asserted. Each server's stdout (its logs) goes to a file in its data folder, as a user's
 * file or log collector would take it (`npm run bench` does the same).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface AutocannonResult {
  readonly duration: number;
  readonly requests: { readonly total: number };
  readonly errors: number;
  readonly non2xx: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; method: string; headers: Record<string, string>; body: string }) => PromiseLike<AutocannonResult>;
// autocannon is CommonJS without bundled types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// A checkout may name its entry point after `@`: `dir@src/main.ts` runs the TypeScript under tsx
// (as `npm start` did before it ran the build); the default is `dist/main.js`, built first with
// the checkout's own `npm run build`, as npm start runs it.
const roots = (process.env['ROOTS'] ?? '.').split(',').map((spec) => {
  const [root, entry] = spec.split('@') as [string, string | undefined];
  return { root: path.resolve(root), entry: entry ?? 'dist/main.js' };
});
const query = process.env['QUERY'] ?? '{ products(first: 20) { edges { node { id name price { amount currency } inStock } } } }';
const rounds = Number(process.env['ROUNDS'] ?? 8);
const seconds = Number(process.env['SEC'] ?? 5);
const connections = Number(process.env['CONNECTIONS'] ?? 32);
const serverEnv = JSON.parse(process.env['SERVER_ENV'] ?? '{}') as Record<string, string>;
const nodeArgs = (process.env['NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
const BASE_PORT = 4700;

interface Server {
  readonly root: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly token: string | undefined;
}

/** User plus system CPU time of a process, in µs (Linux, clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function headers(token: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

/**
 * One GraphQL request with the server's token, its `data` returned; fails on anything but a 200
 * JSON answer, on errors or a missing `data` unless `allowErrors` (then `data` may be null), and
 * after 10 s.
 */
async function post(server: Server, body: { query: string; variables?: Record<string, unknown> }, allowErrors = false): Promise<Record<string, unknown> | null> {
  const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: headers(server.token), body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let result: { data?: Record<string, unknown> | null; errors?: unknown } | undefined;
  try {
    result = JSON.parse(text) as typeof result;
  } catch {
    result = undefined;
  }
  if (!response.ok || result === undefined || (!allowErrors && (result.errors !== undefined || !result.data))) throw new Error(`${server.root}: ${response.status} ${text.slice(0, 300)}`);
  return result.data ?? null;
}

/** Posts the measured query once: a 200 without errors (with ALLOW_ERRORS=1, errors allowed, as Q4's are). */
async function check(server: Server): Promise<void> {
  await post(server, { query }, process.env['ALLOW_ERRORS'] === '1');
}

/** `count` orders of three catalog products each, placed by the token's user; a product out of stock is left out of the rest. */
async function seedOrders(server: Server, count: number): Promise<void> {
  if (count === 0) return;
  const { products } = (await post(server, { query: '{ products(first: 40) { edges { node { id inStock } } } }' }))! as { products: { edges: { node: { id: string; inStock: boolean } }[] } };
  const ids = products.edges.filter((edge) => edge.node.inStock).map((edge) => edge.node.id);
  for (let placed = 0, next = 0; placed < count; ) {
    if (ids.length < 3) throw new Error(`${server.root}: not enough products in stock for ${count} orders`);
    const items = [0, 1, 2].map((k) => ({ productId: ids[(next + k) % ids.length]!, quantity: 1 }));
    try {
      await post(server, { query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }', variables: { input: { items } } });
      placed++;
      next += 3;
    } catch (error) {
      const short = /input\.items\[(\d)\]\.quantity","[^}]*INSUFFICIENT_STOCK/.exec(String(error));
      if (short === null) throw error;
      ids.splice(ids.indexOf(items[Number(short[1])]!.productId), 1);
    }
  }
}

function tokenArguments(value: string): string[] {
  return value.trimStart().startsWith('[') ? (JSON.parse(value) as string[]) : value.split(' ').filter((arg) => arg !== '');
}

async function start({ root, entry }: { root: string; entry: string }, port: number): Promise<Server> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-ab-'));
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ...serverEnv };
  if (entry.startsWith('dist/')) execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const logFile = openSync(path.join(dataDir, 'stdout.log'), 'w');
  const child = spawn(process.execPath, [...nodeArgs.map((arg) => arg.replace('%i', String(port))), ...loader, entry], { cwd: root, env, stdio: ['ignore', logFile, 'inherit'] });
  closeSync(logFile); // the child has its own copy
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${root}: the server exited (${child.exitCode})`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`${root}: the server did not start within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  let token: string | undefined;
  const tokenArgs = process.env['TOKEN_ARGS'];
  if (tokenArgs) {
    // The token CLI's file moved once; older checkouts have the first name.
    const cli = ['src/cli/token-cli.ts', 'src/cli/token.ts'].find((file) => existsSync(path.join(root, file)))!;
    token = execFileSync(process.execPath, ['--import', 'tsx', cli, ...tokenArguments(tokenArgs)], { cwd: root, env, encoding: 'utf8' }).trim().split('\n').pop();
  }
  const server = { root: `${root}@${entry}`, port, child, dataDir, token };
  try {
    await seedOrders(server, Number(process.env['SEED_ORDERS'] ?? 0));
    await check(server);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return server;
}

const servers: Server[] = [];
try {
  for (const [i, root] of roots.entries()) servers.push(await start(root, BASE_PORT + i));
  const perServer = new Map(servers.map((server) => [server, { rps: [] as number[], cpu: [] as number[] }]));
  const body = JSON.stringify({ query });
  for (let round = 0; round <= rounds; round++) {
    // Round 0 warms every server up; each round starts one server further along.
    for (let k = 0; k < servers.length; k++) {
      const server = servers[(k + round) % servers.length]!;
      const before = cpuMicros(server.child.pid!);
      const result = await autocannon({ url: `http://127.0.0.1:${server.port}/graphql`, connections, duration: round === 0 ? 2 : seconds, method: 'POST', headers: headers(server.token), body });
      const used = cpuMicros(server.child.pid!) - before;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.root}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      if (round > 0) {
        perServer.get(server)!.rps.push(result.requests.total / result.duration);
        perServer.get(server)!.cpu.push(used / result.requests.total);
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const range = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
  console.log(`${rounds} rounds × ${seconds} s, ${connections} connections, query ${query.slice(0, 60)}`);
  for (const [server, { rps, cpu }] of perServer) {
    console.log(`${server.root}: ${median(rps).toFixed(0)} req/s (${range(rps, 0)}), ${median(cpu).toFixed(1)} µs CPU per response (${range(cpu, 1)})`);
  }
} finally {
  await Promise.all(
    servers.map(async (server) => {
      if (server.child.exitCode === null) {
        const gone = new Promise((resolve) => server.child.once('exit', resolve));
        server.child.kill('SIGTERM');
        await gone;
      }
      rmSync(server.dataDir, { recursive: true, force: true });
    }),
  );
}
