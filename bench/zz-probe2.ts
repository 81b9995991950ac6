import { startServer, stopAll } from './lib/children.js';
import { drive } from './lib/load.js';
import { Q2 } from './lib/queries.js';
import { loadOrCreateDevIssuer } from '../src/auth/dev-issuer.js';
const secs = Number(process.argv[2] ?? 5);
try {
  const servers = [await startServer('project', 'server-child.ts', ['project']), await startServer('cluster', 'cluster.ts', [], { BENCH_WORKERS: '2' })];
  for (let round = 0; round < 3; round++) {
    for (const s of servers) {
      const issuer = await loadOrCreateDevIssuer(s.ready.tokens!);
      const token = await issuer.sign({ sub: 'bench-user-1', name: 'Bench User 1', scope: 'read:profile read:orders' });
      const r = await drive({ endpoint: s.endpoint, operation: Q2, token, enforcesAuthorization: true, connections: 32, durationSec: secs });
      console.log(round, s.name, r.rps.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2));
    }
  }
} finally {
  await stopAll();
}
