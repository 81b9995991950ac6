import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';
import { type RawConnection, openConnection } from '../fixtures/raw-socket.js';

/**
 * Slow clients cannot hold connections: every phase of a connection has a deadline, and the
 * number of connections has a cap. Timeouts are configured small here; the waits are generous
 * multiples of them, and the assertions are on what happens (closed or not), never on durations.
 */
const GENEROUS_WAIT_MS = 8000;
const HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n';
const SLOW_BODY_HEAD = 'POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';

const opened: RawConnection[] = [];
const open = async (url: string) => {
  const connection = await openConnection(url);
  opened.push(connection);
  return connection;
};
afterEach(() => {
  for (const connection of opened.splice(0)) connection.destroy();
});

describe('slow clients', () => {
  let server: TestHttpServer;

  beforeAll(async () => {
    server = await startHttpServer({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_IDLE_TIMEOUT_MS: '5000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => server?.close());

  it('closes a connection whose headers never finish, while /healthz answers 200', async () => {
    const slow = await open(server.url);
    slow.socket.write('POST /graphql HTTP/1.1\r\nHost: test\r\n');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await slow.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose headers arrive and whose body never does, while /healthz answers 200', async () => {
    const slow = await open(server.url);
    slow.socket.write(SLOW_BODY_HEAD);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await slow.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that trickles its body a byte at a time, while /healthz answers 200', async () => {
    const slow = await open(server.url);
    slow.socket.write(SLOW_BODY_HEAD);
    let sent = 0;
    const trickle = setInterval(() => {
      if (!slow.socket.destroyed && sent < 99) slow.socket.write(sent++ === 0 ? '{' : ' ');
    }, 100);
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await slow.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
      expect(sent).toBeLessThan(99); // closed before the body was complete
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes an idle keep-alive connection after its response', async () => {
    const idle = await open(server.url);
    idle.socket.write(HEALTHZ);
    expect(await idle.nextStatus(GENEROUS_WAIT_MS)).toBe(200);
    expect(await idle.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
  });

  it('answers /healthz 200 throughout while many slow connections are open', async () => {
    const slow = await Promise.all(Array.from({ length: 20 }, () => open(server.url)));
    slow.forEach((connection, i) => connection.socket.write(i % 2 === 0 ? SLOW_BODY_HEAD : 'GET /healthz HTTP/1.1\r\n'));
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const closed = await Promise.all(slow.map((connection) => connection.closedWithin(GENEROUS_WAIT_MS)));
    expect(closed.every(Boolean)).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('a silent connection (body deadline)', () => {
  let server: TestHttpServer;

  beforeAll(async () => {
    // Whole-request deadline far away: only the idle deadline can close it.
    server = await startHttpServer({ HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_IDLE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => server?.close());

  it('closes a connection on which nothing arrives for the idle timeout', async () => {
    const slow = await open(server.url);
    slow.socket.write(SLOW_BODY_HEAD);
    expect(await slow.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
  });
});

describe('connection cap', () => {
  let server: TestHttpServer;

  beforeAll(async () => {
    server = await startHttpServer({ HTTP_MAX_CONNECTIONS: '3' });
  });
  afterAll(async () => server?.close());

  it('closes connections over the cap unanswered while the open ones keep working', async () => {
    const within = [await open(server.url), await open(server.url), await open(server.url)];
    for (const connection of within) {
      connection.socket.write(HEALTHZ);
      expect(await connection.nextStatus(GENEROUS_WAIT_MS)).toBe(200);
    }
    const over = await open(server.url);
    over.socket.write(HEALTHZ);
    expect(await over.nextStatus(GENEROUS_WAIT_MS)).toBeUndefined();
    expect(await over.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
    for (const connection of within) {
      connection.socket.write(HEALTHZ);
      expect(await connection.nextStatus(GENEROUS_WAIT_MS)).toBe(200);
    }
    // A freed place is available again.
    within[0]!.destroy();
    expect(await within[0]!.closedWithin(GENEROUS_WAIT_MS)).toBe(true);
    let again: number | undefined;
    for (let attempt = 0; attempt < 20 && again === undefined; attempt++) {
      const next = await open(server.url);
      next.socket.write(HEALTHZ);
      again = await next.nextStatus(1000);
    }
    expect(again).toBe(200);
  });
});
