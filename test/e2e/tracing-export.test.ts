import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';

/** An OTLP/HTTP collector stand-in: keeps every request's path and body. */
async function startCollector(): Promise<{ url: string; received: Array<{ path: string; body: Buffer }>; close(): Promise<void> }> {
  const received: Array<{ path: string; body: Buffer }> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function query(server: ServerProcess): Promise<void> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query ListProducts { products(first: 1) { edges { node { id } } } }' }),
  });
  expect(response.status).toBe(200);
  await response.text();
}

describe('the tracing SDK in a server process', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(() => collector.close());

  it('exports the request spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushing them on SIGTERM', async () => {
    collector.received.length = 0;
    const server = await startServerProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'orders-under-test' });
    try {
      await query(server);
      server.child.kill('SIGTERM');
      expect(await server.exited()).toBe(0);
    } finally {
      server.cleanUp();
    }
    const traces = collector.received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThanOrEqual(1);
    const body = Buffer.concat(traces.map((t) => t.body)).toString('latin1');
    expect(body).toContain('query ListProducts');
    expect(body).toContain('db.query');
    expect(body).toContain('orders-under-test');
  }, 60_000);

  it('starts no SDK with OTEL_SDK_DISABLED=true, endpoint or not: nothing is exported', async () => {
    collector.received.length = 0;
    const server = await startServerProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SDK_DISABLED: 'true' });
    try {
      await query(server);
      server.child.kill('SIGTERM');
      expect(await server.exited()).toBe(0);
    } finally {
      server.cleanUp();
    }
    expect(collector.received).toHaveLength(0);
  }, 60_000);
});
