import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';

/** Sum of every sample of `name` whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('npm run start:cluster with METRICS_PORT', () => {
  let server: ServerProcess;
  let metricsUrl: string;

  beforeAll(async () => {
    server = await startServerProcess({ WORKERS: '2', METRICS_PORT: '0' }, { entry: 'cluster', workers: 2 });
    metricsUrl = /metrics at (http:\/\/\S+)\/metrics/.exec(server.output())![1]!;
  }, 60_000);
  afterAll(() => server?.cleanUp());

  it('serves every worker\'s metrics from the primary, summed', async () => {
    const before = total(await (await fetch(`${metricsUrl}/metrics`)).text(), 'graphql_requests_total', { operation_type: 'query', outcome: 'ok' });
    const requests = 20;
    for (let i = 0; i < requests; i += 1) {
      // A new connection each time, so that both workers get some.
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ query: '{ products(first: 1) { edges { node { id } } } }' }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(total(text, 'graphql_requests_total', { operation_type: 'query', outcome: 'ok' }) - before).toBe(requests);
    // Process metrics of both workers, aggregated.
    expect(total(text, 'nodejs_heap_size_used_bytes', {}) + Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? 0)).toBeGreaterThan(0);
  }, 60_000);

  it('does not serve metrics on the API port', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
