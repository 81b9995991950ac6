import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { healthRoutes } from '../../../src/http/health-routes.js';

describe('/readyz during shutdown', () => {
  it('answers 503 shutting_down once draining starts, while /healthz stays 200', async () => {
    let draining = false;
    const app = Fastify();
    await app.register(healthRoutes, { ping: async () => undefined, verifier: { status: () => ({ ready: true }) }, draining: () => draining });
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    draining = true;
    const readiness = await app.inject('/readyz');
    expect(readiness.statusCode).toBe(503);
    expect(readiness.json()).toMatchObject({ status: 'shutting_down' });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    await app.close();
  });
});
