import type { FastifyPluginAsync } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  /** Throws when the database cannot be reached. */
  readonly ping: () => Promise<unknown>;
  /** Readiness of token verification (signing keys loaded, per issuer). */
  readonly verifier: Pick<TokenVerifier, 'status'>;
  /** True once shutdown has begun: `/readyz` answers 503 `shutting_down` at once. Default: never. */
  readonly draining?: () => boolean;
}

/**
 * `/healthz`: the process answers. `/readyz`: the database answers and every issuer's keys are
 * loaded; 503 `not_ready` with the reasons (and each issuer's readiness) otherwise.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { ping, verifier, draining }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (draining?.() === true) return reply.code(503).send({ status: 'shutting_down', reasons: ['shutting down'] });
    const reasons: string[] = [];
    try {
      await ping();
    } catch {
      reasons.push('database unreachable');
    }
    const auth = verifier.status();
    if (auth.issuers !== undefined) {
      for (const issuer of auth.issuers) if (!issuer.ready) reasons.push(`${issuer.issuer}: ${issuer.reason ?? 'not ready'}`);
    } else if (!auth.ready) {
      reasons.push(`signing keys not loaded${auth.reason ? `: ${auth.reason}` : ''}`);
    }
    const issuers = auth.issuers?.map(({ issuer, ready }) => ({ issuer, ready }));
    return reasons.length === 0 ? { status: 'ready', ...(issuers ? { issuers } : {}) } : reply.code(503).send({ status: 'not_ready', reasons, ...(issuers ? { issuers } : {}) });
  });
};
