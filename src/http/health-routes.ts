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
 * loaded; 503 `not_ready` with the reasons (and each issuer's readiness) otherwise. Ready but with
 * something failing that clients may notice (an authorization server unreachable while its keys
 * obtained before still verify tokens, introspection requests failing): 200 with `warnings`
 * naming it — taking the replica out of service would not help, every replica sees the same.
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
    const warnings: string[] = [];
    if (auth.issuers !== undefined) {
      for (const issuer of auth.issuers) if (issuer.degraded !== undefined) warnings.push(`${issuer.issuer}: ${issuer.degraded}`);
    } else if (auth.degraded !== undefined) {
      warnings.push(auth.degraded);
    }
    const issuers = auth.issuers?.map(({ issuer, ready, degraded }) => ({ issuer, ready, ...(degraded !== undefined ? { degraded: true } : {}) }));
    const extra = { ...(warnings.length > 0 ? { warnings } : {}), ...(issuers ? { issuers } : {}) };
    return reasons.length === 0 ? { status: 'ready', ...extra } : reply.code(503).send({ status: 'not_ready', reasons, ...extra });
  });
};
