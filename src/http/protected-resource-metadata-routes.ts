import type { FastifyPluginAsync } from 'fastify';
import { type ProtectedResourceMetadataInput, protectedResourceMetadata } from './protected-resource-metadata.js';

/** Options of {@link protectedResourceMetadataRoutes}. */
export interface ProtectedResourceMetadataRoutesOptions extends ProtectedResourceMetadataInput {
  /** The path derived from the resource identifier ({@link resourceMetadataPath}). */
  readonly metadataPath: string;
}

/**
 * RFC 9728 §3: the protected resource metadata at the root well-known document, the one for the
 * GraphQL endpoint's path, and the one for the audience's path (the same document at each).
 */
export const protectedResourceMetadataRoutes: FastifyPluginAsync<ProtectedResourceMetadataRoutesOptions> = async (app, options) => {
  const { metadataPath, ...input } = options;
  for (const path of new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/graphql', metadataPath])) {
    app.get(path, async () => protectedResourceMetadata(input));
  }
};
