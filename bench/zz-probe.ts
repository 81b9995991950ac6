import { startServer, stopAll } from './lib/children.js';
import { drive } from './lib/load.js';
import { Q1, Q2, Q3 } from './lib/queries.js';
import { loadOrCreateDevIssuer } from '../src/auth/dev-issuer.js';
const variants = (process.argv[2] ?? 'authn-only,project').split(',');
const q = ({ Q1, Q2, Q3 } as any)[process.argv[3] ?? 'Q1'];
const secs = Number(process.argv[4] ?? 5);
try {
  const servers = await Promise.all(variants.map((v) => startServer(v, 'server-child.ts', [v])));
  const tokens = [];
  for (const s of servers) {
    const settings = s.ready.tokens ?? servers.find((x) => x.ready.tokens)!.ready.tokens!;
    const issuer = await loadOrCreateDevIssuer(settings);
    tokens.push(await issuer.sign({ sub: 'bench-user-1', name: 'Bench User 1', scope: 'read:profile read:orders' }));
  }
  for (let round = 0; round < 3; round++) {
    for (const [i, s] of servers.entries()) {
      const r = await drive({ endpoint: s.endpoint, operation: q, token: q.credentials === 'none' ? undefined : tokens[i], enforcesAuthorization: s.name === 'project', connections: 32, durationSec: secs });
      console.log(round, s.name, r.rps.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2));
    }
  }
} finally {
  await stopAll();
}
