import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { openConnection } from '../fixtures/raw-socket.js';
import { type ServerProcess, startServerProcess } from '../fixtures/server-process.js';

/** Resolves true once a new TCP connection to `url` is refused (polling; false if still accepted after `waitMs`). */
async function refusedWithin(url: string, waitMs: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

const BODY = JSON.stringify({ query: '{ products(first: 2) { edges { node { id name } } } }' });

/** A POST /graphql whose headers are complete but whose body has not all arrived: a request in flight. */
async function slowRequest(url: string) {
  const connection = await openConnection(url);
  const half = Math.floor(BODY.length / 2);
  connection.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY.slice(0, half)}`);
  return { connection, finish: () => connection.socket.write(BODY.slice(half)) };
}

/** A PostgreSQL database of the test's own (created and dropped here), when TEST_DATABASE_URL is set. */
const POSTGRES = process.env['TEST_DATABASE_URL'];
const ownDatabase = `shutdown_${randomBytes(4).toString('hex')}`;
const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
};
const databases: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'SQLite', env: {} },
  ...(POSTGRES ? [{ name: 'PostgreSQL', env: { DATABASE_URL: Object.assign(new URL(POSTGRES), { pathname: `/${ownDatabase}` }).href } }] : []),
];

describe('graceful shutdown (a server process, signalled)', () => {
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    if (POSTGRES) await admin(`create database ${ownDatabase}`);
  });
  afterEach(() => server?.cleanUp());
  afterAll(async () => {
    if (POSTGRES) await admin(`drop database if exists ${ownDatabase} with (force)`);
  });

  // NODE_ENV=development, as `npm start` runs: Apollo Server installs signal handlers of its own outside NODE_ENV=test.
  for (const [signal, database] of [['SIGTERM', databases[0]!], ['SIGINT', databases[0]!], ...databases.slice(1).map((d) => ['SIGTERM', d] as const)] as const) {
    it(`on ${signal} (${database.name}): refuses new connections, answers 503 to /readyz, finishes the request in flight, exits 0`, async () => {
      server = await startServerProcess({ NODE_ENV: 'development', SHUTDOWN_DRAIN_TIMEOUT_MS: '30000', ...database.env });
      const inFlight = await slowRequest(server.url);
      // A probe whose request line has arrived but not its headers' end: answered after the signal.
      const probe = await openConnection(server.url);
      probe.socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\n');
      // Let the server read both before it is signalled.
      await new Promise((resolve) => setTimeout(resolve, 200));

      server.child.kill(signal);
      expect(await refusedWithin(server.url, 10_000)).toBe(true);
      probe.socket.write('\r\n');
      expect(await probe.nextStatus(10_000)).toBe(503);

      inFlight.finish();
      expect(await inFlight.connection.nextStatus(10_000)).toBe(200);
      const response = inFlight.connection.received();
      expect(response).toMatch(/connection: close/i);
      expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({ data: { products: { edges: [{ node: { id: expect.any(String) } }, { node: {} }] } } });
      expect(await server.exited()).toBe(0);
    }, 60_000);
  }

  it('cuts off a request still in flight after SHUTDOWN_DRAIN_TIMEOUT_MS and still exits 0', async () => {
    server = await startServerProcess({ SHUTDOWN_DRAIN_TIMEOUT_MS: '300' });
    const inFlight = await slowRequest(server.url);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    expect(await inFlight.connection.closedWithin(20_000)).toBe(true);
    expect(await server.exited()).toBe(0);
  }, 60_000);

  it('cluster mode: the primary drains every worker and exits 0', async () => {
    server = await startServerProcess({ WORKERS: '2', SHUTDOWN_DRAIN_TIMEOUT_MS: '30000' }, { entry: 'cluster', workers: 2 });
    const inFlight = await slowRequest(server.url);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    expect(await refusedWithin(server.url, 10_000)).toBe(true);
    inFlight.finish();
    expect(await inFlight.connection.nextStatus(10_000)).toBe(200);
    expect(await server.exited()).toBe(0);
  }, 90_000);
});
