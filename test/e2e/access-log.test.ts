import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

type Line = Record<string, unknown>;

function capture(): { lines: Line[]; logger: { level: string; stream: { write(line: string): void } } } {
  const lines: Line[] = [];
  return { lines, logger: { level: 'info', stream: { write: (line) => void lines.push(JSON.parse(line) as Line) } } };
}

const accessLines = (lines: Line[]) => lines.filter((l) => l['msg'] === 'request');

describe('access log', () => {
  let server: TestHttpServer;
  let token: string;
  const { lines, logger } = capture();

  beforeAll(async () => {
    server = await startHttpServer({}, { logger });
    token = await server.devIssuer!.sign({ sub: 'alice', name: 'Alice', scope: 'read:profile', clientId: 'shop-app' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('writes one line per request with method, path, status, duration, request id, operation, subject and client id', async () => {
    lines.length = 0;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-42' },
      body: JSON.stringify({ query: 'query WhoAmI { me { displayName } }' }),
    });
    expect(response.status).toBe(200);
    await response.text();
    await server.app.close(); // onResponse has run for every answered request once the server is closed
    const access = accessLines(lines);
    expect(access).toHaveLength(1);
    const [line] = access;
    expect(line).toMatchObject({ level: 30, reqId: 'req-42', method: 'POST', path: '/graphql', status: 200, operation: 'WhoAmI', subject: 'alice' });
    expect(line!['clientId']).toBe('shop-app');
    expect(typeof line!['durationMs']).toBe('number');
  });

  it("replaces Fastify's own two lines per request", () => {
    expect(lines.some((l) => l['msg'] === 'incoming request' || l['msg'] === 'request completed')).toBe(false);
  });
});

describe('access log, what it never holds', () => {
  it('never writes the token, from the Authorization header or from the query string', async () => {
    const { lines, logger } = capture();
    const server = await startHttpServer({}, { logger });
    try {
      const token = await server.devIssuer!.sign({ sub: 'bob', scope: 'read:profile' });
      await (await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { displayName } }' }) })).text();
      await (await fetch(`${server.url}/graphql?access_token=${token}&query=${encodeURIComponent('{ me { displayName } }')}`)).text();
      await (await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.valid-token' }, body: JSON.stringify({ query: '{ me { displayName } }' }) })).text();
    } finally {
      await server.close();
    }
    const access = accessLines(lines);
    expect(access.map((l) => l['path'])).toEqual(['/graphql', '/graphql', '/graphql']);
    expect(access.map((l) => l['status'])).toEqual([200, 400, 401]);
    const all = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(all).not.toContain('eyJ'); // the start of every JWT's encoded header
    expect(all).not.toContain('not.a.valid-token');
    expect(all).not.toContain('access_token');
  });
});

describe('access log settings', () => {
  it('writes only the fields ACCESS_LOG_FIELDS names, at ACCESS_LOG_LEVEL', async () => {
    const { lines, logger } = capture();
    const server = await startHttpServer({ ACCESS_LOG_LEVEL: 'warn', ACCESS_LOG_FIELDS: 'status,path' }, { logger });
    try {
      await (await fetch(`${server.url}/healthz`)).text();
    } finally {
      await server.close();
    }
    const access = accessLines(lines);
    expect(access).toHaveLength(1);
    const { level, reqId, status, path, ...rest } = access[0]!;
    expect({ level, status, path }).toEqual({ level: 40, status: 200, path: '/healthz' });
    expect(typeof reqId).toBe('string');
    expect(Object.keys(rest).sort()).toEqual(['hostname', 'msg', 'pid', 'time']);
  });

  it('writes no access line with ACCESS_LOG_LEVEL=off, nor when LOG_LEVEL is above its level', async () => {
    for (const [env, level] of [[{ ACCESS_LOG_LEVEL: 'off' }, 'info'], [{}, 'warn']] as const) {
      const lines: Line[] = [];
      const server = await startHttpServer(env, { logger: { level, stream: { write: (line) => void lines.push(JSON.parse(line) as Line) } } });
      try {
        await (await fetch(`${server.url}/healthz`)).text();
      } finally {
        await server.close();
      }
      expect(accessLines(lines)).toEqual([]);
    }
  });
});

describe('access log, denied fields', () => {
  type Env = Record<string, string>;
  const ME = '{ me { displayName email } }';
  const denialLines = (lines: Line[]) => lines.filter((l) => l['event'] === 'authz.denied' || l['event'] === 'authz.would_deny');

  /** Lines logged for `bodies` sent by alice with only `read:profile`, the server started with `env` and a logger at `level`. */
  async function logged(env: Env, bodies: readonly unknown[], level = 'info'): Promise<Line[]> {
    const lines: Line[] = [];
    const server = await startHttpServer(env, { logger: { level, stream: { write: (line) => void lines.push(JSON.parse(line) as Line) } } });
    try {
      const token = await server.devIssuer!.sign({ sub: 'alice', scope: 'read:profile', clientId: 'shop-app' });
      for (const body of bodies) {
        const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        expect(response.status).toBe(200);
        await response.text();
      }
    } finally {
      await server.close();
    }
    return lines;
  }

  it('writes one line for a request with a denied field: the access line lists the denial, no line of its own', async () => {
    const lines = await logged({}, [{ query: ME }]);
    expect(denialLines(lines)).toEqual([]);
    const access = accessLines(lines);
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ status: 200, subject: 'alice', clientId: 'shop-app', denied: [{ path: 'me.email', field: 'Profile.email', reason: 'insufficient_scope', missingScopes: ['read:email'] }] });
    expect(access[0]).not.toHaveProperty('deniedUnlisted');
  });

  it('lists the denials of every operation of a batch on the one line', async () => {
    const lines = await logged({ GRAPHQL_BATCH_MAX: '5' }, [[{ query: ME }, { query: '{ me { displayName } }' }, { query: '{ me { email } }' }]]);
    expect(denialLines(lines)).toEqual([]);
    const access = accessLines(lines);
    expect(access).toHaveLength(1);
    expect((access[0]!['denied'] as Line[]).map((d) => d['path'])).toEqual(['me.email', 'me.email']);
  });

  it('lists at most 100 denied fields of an operation and counts the rest as deniedUnlisted', async () => {
    const aliases = Array.from({ length: 103 }, (_, i) => `e${i}: email`).join(' ');
    const lines = await logged({ GRAPHQL_MAX_ALIASES: '200' }, [{ query: `{ me { displayName ${aliases} } }` }]);
    expect(denialLines(lines)).toEqual([]);
    const access = accessLines(lines);
    expect(access).toHaveLength(1);
    const denied = access[0]!['denied'] as Line[];
    expect(denied).toHaveLength(100);
    expect(denied[0]).toMatchObject({ path: 'me.e0', field: 'Profile.email', missingScopes: ['read:email'] });
    expect(access[0]!['deniedUnlisted']).toBe(3);
  });

  it('writes nothing about denials on a request without any', async () => {
    const access = accessLines(await logged({}, [{ query: '{ me { displayName } }' }]));
    expect(access).toHaveLength(1);
    expect(access[0]).not.toHaveProperty('denied');
  });

  it('names what dry-run would have denied as wouldDeny', async () => {
    const lines = await logged({ AUTHZ_MODE: 'dry-run' }, [{ query: ME }]);
    expect(denialLines(lines)).toEqual([]);
    expect(accessLines(lines)[0]).toMatchObject({ wouldDeny: [{ path: 'me.email', missingScopes: ['read:email'] }] });
    expect(accessLines(lines)[0]).not.toHaveProperty('denied');
  });

  // Denials are never lost: without an access line at info or above that is written, each keeps its own line.
  it.each([
    ['ACCESS_LOG_LEVEL=off', { ACCESS_LOG_LEVEL: 'off' }, 'info'],
    ['an access line at debug', { ACCESS_LOG_LEVEL: 'debug' }, 'debug'],
    ['an access line at debug, the logger at info', { ACCESS_LOG_LEVEL: 'debug' }, 'info'],
  ])('logs each denial on its own authz.denied line with %s', async (_name, env: Env, level) => {
    const lines = await logged(env, [{ query: ME }], level);
    expect(denialLines(lines)).toEqual([expect.objectContaining({ event: 'authz.denied', subject: 'alice', path: 'me.email', missingScopes: ['read:email'] })]);
    for (const line of accessLines(lines)) expect(line).not.toHaveProperty('denied');
  });
});
