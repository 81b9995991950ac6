/**
 * Event fan-out: N subscribers (default 1000) on `orderEvents` with an admin:orders token, on one
 * server started as `npm start` starts it (default settings, logging on, to /dev/null); M orders
 * placed through HTTP one after another. Reports events delivered per second (all subscribers) and
 * the latency from sending the mutation (an upper bound on commit) to each delivery, p50/p99.
 *
 *   npx tsx bench/subscriptions-bench.ts [subscribers=1000] [orders=50] [DATABASE_URL]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';

const subscribers = Number(process.argv[2] ?? 1000);
const orders = Number(process.argv[3] ?? 50);
const databaseUrl = process.argv[4];
const dataDir = mkdtempSync(path.join(tmpdir(), 'subs-bench-'));
const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, WS_MAX_CONNECTIONS: String(subscribers + 10), WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: String(subscribers + 10), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }, process.cwd());
const server = await createServer(config, { logger: { level: 'info', stream: { write: () => undefined } } });
const admin = await server.devIssuer!.sign({ sub: 'bench-admin', scope: 'admin:orders read:orders', expiresInSec: 3600 });
const buyer = await server.devIssuer!.sign({ sub: 'bench-buyer', scope: 'write:orders', expiresInSec: 3600 });

const latencies: number[] = [];
let delivered = 0;
let committedAt = 0;
const clients = [];
for (let i = 0; i < subscribers; i++) {
  const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${admin}` }, retryAttempts: 0, lazy: false });
  client.subscribe(
    { query: 'subscription { orderEvents { status order { id status total { amount currency } } } }' },
    {
      next: () => {
        delivered += 1;
        latencies.push(performance.now() - committedAt);
      },
      error: (e) => console.error('subscription error', e),
      complete: () => undefined,
    },
  );
  clients.push(client);
}
while (server.subscriptions.active < subscribers) await new Promise((r) => setTimeout(r, 20));

const started = performance.now();
for (let i = 0; i < orders; i++) {
  const target = delivered + subscribers;
  // From sending the mutation: an upper bound on commit → delivery (it includes the mutation's own work).
  committedAt = performance.now();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${buyer}` },
    body: JSON.stringify({ query: 'mutation { placeOrder(input: { items: [{ productId: "UHJvZHVjdDox", quantity: 1 }] }) { orderId } }' }),
  });
  await response.json();
  while (delivered < target) await new Promise((r) => setImmediate(r));
}
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
console.log(JSON.stringify({ database: config.database.kind, subscribers, orders, delivered, eventsPerSecond: Math.round(delivered / seconds), latencyMs: { p50: q(0.5), p99: q(0.99), max: latencies.at(-1)!.toFixed(1) } }));
for (const c of clients) await c.dispose();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
