import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { type GraphQLFieldResolver, type GraphQLSchema, defaultFieldResolver } from 'graphql';
import { type AuthorizationIndex, type AuthorizationIndexOptions, buildAuthorizationIndex } from './authorization-index.js';
import type { AuthorizationContext } from './field-guard.js';
import { describeRequirement, isEmptyRequirement } from './requirement.js';

export interface AuthorizedSchema {
  readonly schema: GraphQLSchema;
  readonly index: AuthorizationIndex;
}

/**
 * Schema transform for the authorization directives: resolves every requirement (failing
 * start-up on inconsistent annotations), guards the resolver of each protected field so that a
 * denied field never runs, and writes the requirement into the field's description so that
 * Sandbox and introspection show it. The decision for a whole operation is taken before
 * execution by the authorization plugin; the guard is the last line that makes bypass impossible.
 */
export function applyAuthorization(schema: GraphQLSchema, options: AuthorizationIndexOptions = {}): AuthorizedSchema {
  const index = buildAuthorizationIndex(schema, options);
  const transformed = mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const requirement = index.field(typeName, fieldName);
      if (isEmptyRequirement(requirement)) return fieldConfig;
      const resolve: GraphQLFieldResolver<unknown, AuthorizationContext> = fieldConfig.resolve ?? defaultFieldResolver;
      const note = `Requires: ${describeRequirement(requirement)}.`;
      return {
        ...fieldConfig,
        description: fieldConfig.description ? `${fieldConfig.description}\n\n${note}` : note,
        extensions: { ...fieldConfig.extensions, authorization: requirement },
        resolve(source, args, context: AuthorizationContext, info) {
          const denied = context.guard.check(requirement);
          if (denied) throw denied;
          return resolve(source, args, context, info);
        },
      };
    },
  });
  return { schema: transformed, index };
}
