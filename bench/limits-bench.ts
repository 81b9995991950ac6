/**
 * `npx tsx bench/limits-bench.ts`: how long the server takes to refuse each known bomb, in
 * process (Fastify's inject: the whole HTTP, authentication and GraphQL path, no socket), with
 * the default limits and a development token. Prints median and worst of RUNS refusals each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';

const RUNS = Number(process.env['RUNS'] ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'limits-bench-'));
const server = await createServer(loadConfig({ NODE_ENV: 'development', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, root));
const token = await server.devIssuer!.sign({ sub: 'bench', scope: 'read:profile read:orders read:email admin:orders' });

const fanOut = `{ ...F0 } ${Array.from({ length: 31 }, (_, i) => `fragment F${i} on Query { products(first: 1) { edges { node { id name } } } ${i < 30 ? `...F${i + 1} ...F${i + 1}` : ''} }`).join(' ')}`;
let deep = 'id';
for (let i = 0; i < 40; i++) deep = `orders(first: 1) { edges { node { customer { ${deep} } } } }`;
const bombs: Array<[string, string]> = [
  ['fragment fan-out (31 levels × 2 spreads, 2 KB)', fanOut],
  ['deep cycle (40 × Order.customer → Profile.orders)', `{ me { ${deep} } }`],
  ['alias flood (10,000 × me { orders(first: 100) })', `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: me { orders(first: 100) { edges { node { id } } } }`).join(' ')} }`],
  ['alias flood (90 × me { orders(first: 100) { items } }, under the token limit)', `{ ${Array.from({ length: 90 }, (_, i) => `a${i}: me { orders(first: 100) { edges { node { items { product { name } } } } } }`).join(' ')} }`],
  ['__typename flood (50,000 aliases)', `{ ${Array.from({ length: 50_000 }, (_, i) => `t${i}: __typename`).join(' ')} }`],
  ['directive flood (2,000 × @include on one field)', `{ __typename ${'@include(if: true) '.repeat(2000)} }`],
  ['spread flood (20,000 × ...F @include(if: true))', `{ ...F ${'...F @include(if: true) '.repeat(20_000)} } fragment F on Query { __typename }`],
  ['25,000 operations in one document', Array.from({ length: 25_000 }, (_, i) => `query Q${i} { __typename }`).join(' ')],
];

console.log(`| bomb | size | status | code | median ms | worst ms |\n|---|--:|--:|---|--:|--:|`);
for (const [name, query] of bombs) {
  const times: number[] = [];
  let status = 0;
  let code = '';
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const r = await server.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload: JSON.stringify({ query, operationName: name.startsWith('25,000') ? 'Q7' : undefined }) });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    status = r.statusCode;
    code = (JSON.parse(r.body) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code ?? '';
  }
  times.sort((a, b) => a - b);
  console.log(`| ${name} | ${(query.length / 1024).toFixed(0)} KB | ${status} | ${code} | ${times[Math.floor(times.length / 2)]!.toFixed(1)} | ${times[times.length - 1]!.toFixed(1)} |`);
}
await server.close();
rmSync(dataDir, { recursive: true, force: true });
