import type { AuthorizationIndex } from '../authz/authorization-index.js';

export interface ProtectedResourceMetadataInput {
  /** The resource identifier: the audience tokens must carry. */
  readonly resource: string;
  readonly authorizationServers: readonly string[];
  readonly index: AuthorizationIndex;
  readonly documentationUrl: string;
  /** JWS algorithms accepted for DPoP proofs (RFC 9449 §5.2 / RFC 9728 §2). */
  readonly dpopAlgorithms: readonly string[];
}

/**
 * RFC 9728 §2 protected resource metadata. `scopes_supported` is read from the schema's scope
 * catalog, so it cannot drift from what the directives enforce.
 */
export function protectedResourceMetadata(input: ProtectedResourceMetadataInput): Record<string, unknown> {
  return {
    resource: input.resource,
    authorization_servers: input.authorizationServers,
    scopes_supported: input.index.scopes.map((s) => s.name),
    // RFC 6750 §2.1 only: tokens in query strings or form bodies are refused.
    bearer_methods_supported: ['header'],
    resource_name: 'Orders and profile GraphQL API',
    resource_documentation: input.documentationUrl,
    // RFC 9728 §2: DPoP-bound tokens are accepted (and required for tokens that carry cnf.jkt).
    dpop_signing_alg_values_supported: input.dpopAlgorithms,
    dpop_bound_access_tokens_required: false,
    // resource_signing_alg_values_supported is omitted on purpose: it advertises algorithms for
    // signed resource responses, and this server does not sign its responses.
  };
}

/**
 * Where the metadata for `resource` lives (RFC 9728 §3.1): the well-known segment inserted
 * before the resource identifier's path, served on this server's own origin.
 */
export function resourceMetadataPath(resource: string): string {
  try {
    const r = new URL(resource);
    if (r.pathname !== '/' && r.pathname !== '') return `/.well-known/oauth-protected-resource${r.pathname.replace(/\/$/, '')}`;
  } catch {
    // A non-URL audience (e.g. an opaque API identifier): the root document describes it.
  }
  return '/.well-known/oauth-protected-resource';
}
