import type { FastifyPluginAsync } from 'fastify';
import type { DevIssuer } from '../dev-issuer/dev-issuer.js';

/** Options of {@link developmentIssuerRoutes}. */
export interface DevelopmentIssuerRoutesOptions {
  readonly devIssuer: DevIssuer;
}

/**
 * The built-in development issuer's metadata (RFC 8414, at the path-inserted and the appended
 * well-known forms, and as OpenID discovery) and its JWKS, under the issuer URL's path.
 */
export const developmentIssuerRoutes: FastifyPluginAsync<DevelopmentIssuerRoutesOptions> = async (app, { devIssuer }) => {
  const base = new URL(devIssuer.issuer).pathname.replace(/\/$/, '');
  app.get(`${base}/.well-known/oauth-authorization-server`, async () => devIssuer.metadata());
  app.get(`/.well-known/oauth-authorization-server${base}`, async () => devIssuer.metadata());
  app.get(`${base}/.well-known/openid-configuration`, async () => devIssuer.metadata());
  app.get(`${base}/jwks.json`, async () => devIssuer.jwks);
};
