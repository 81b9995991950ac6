import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

// npm test runs test/e2e twice, the second time with GRAPHQL_EXECUTOR set to the other executor:
// the servers these tests start must run that executor, or the second run proves nothing.
describe('end-to-end servers', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startHttpServer({});
  });
  afterAll(() => server?.close());

  it('run the executor the test run asks for', async () => {
    expect(server.executor).toBe(process.env['GRAPHQL_EXECUTOR'] ?? 'jit');
    const { status, body } = await server.graphql('{ products(first: 1) { edges { node { name } } } }');
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });
});
