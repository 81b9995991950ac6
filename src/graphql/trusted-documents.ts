import type { GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { InvalidOperationError, type OperationScopes, scopesForOperation } from '../authz/operation-scopes.js';
import { type ManifestOperation, ManifestError, type PersistedQueryManifest } from '../lib/persisted-query-manifest.js';

/** One trusted operation with what the server computed for it at start-up. */
export interface TrustedOperation extends ManifestOperation {
  /** The scopes a client needs for it (the same analysis as `npm run scopes`). */
  readonly scopes: OperationScopes;
  /** Its estimated cost, as the operation limits measure it. */
  readonly cost: number;
}

/** The manifest's operations, analysed against the schema. */
export interface TrustedDocuments {
  /** In manifest order. */
  readonly operations: readonly TrustedOperation[];
  /** By id, which is the SHA-256 of the body and so Apollo's `queryHash` for it. */
  readonly byId: ReadonlyMap<string, TrustedOperation>;
}

/**
 * Analyses every manifest operation against the schema: the scopes it needs and its cost. Throws
 * {@link ManifestError} (with the entry's index) naming the first operation that no longer
 * validates, so that a stale manifest stops start-up instead of failing clients one by one.
 */
export function analyseTrustedDocuments(schema: GraphQLSchema, index: AuthorizationIndex, manifest: PersistedQueryManifest): TrustedDocuments {
  const byId = new Map<string, TrustedOperation>();
  const operations = manifest.operations.map((operation, position) => {
    const { document } = operation;
    let scopes: OperationScopes;
    try {
      scopes = scopesForOperation(schema, index, document, operation.name);
    } catch (error) {
      if (!(error instanceof InvalidOperationError)) throw error;
      throw new ManifestError(
        `operation ${JSON.stringify(operation.name)} (id ${shortId(operation.id)}) no longer validates against the schema: ${error.problems.join('; ')}`,
        position,
      );
    }
    const trusted: TrustedOperation = Object.freeze({ ...operation, document, scopes, cost: scopes.cost });
    byId.set(operation.id, trusted);
    return trusted;
  });
  return Object.freeze({ operations: Object.freeze(operations), byId });
}

/** The first 12 hex digits of an id, enough to tell operations apart in messages and reports. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
