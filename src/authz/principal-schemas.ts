import type { GraphQLSchema } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { specializeForPrincipal } from './authorization-transform.js';
import { principalShapeKey } from './principal-shape.js';

/** A schema for one principal shape, and the key that names that shape. */
export interface PrincipalSchema {
  readonly key: string;
  readonly schema: GraphQLSchema;
}

export interface PrincipalSchemasOptions {
  /** Shapes (kind × scope set) specialised at most; later ones run on the fully guarded schema. Default: 64. */
  readonly maxShapes?: number;
}

/**
 * The guarded schema specialised per principal shape (see {@link specializeForPrincipal}), built
 * on first use of a shape and kept. Real deployments see a handful of scope sets; past
 * `maxShapes` a principal gets undefined, meaning the fully guarded schema, so the number of
 * schemas (and of operations compiled against them) stays bounded whatever tokens arrive.
 */
export function principalSchemas(guarded: GraphQLSchema, options: PrincipalSchemasOptions = {}): (principal: Principal) => PrincipalSchema | undefined {
  const maxShapes = options.maxShapes ?? 64;
  const byShape = new Map<string, PrincipalSchema>();
  return (principal) => {
    const key = principalShapeKey(principal);
    let entry = byShape.get(key);
    if (entry === undefined) {
      if (byShape.size >= maxShapes) return undefined;
      entry = { key, schema: specializeForPrincipal(guarded, principal) };
      byShape.set(key, entry);
    }
    return entry;
  };
}
