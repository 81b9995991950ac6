import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { type GraphQLFieldResolver, type GraphQLSchema, defaultFieldResolver } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { type AuthorizationIndex, type AuthorizationIndexOptions, buildAuthorizationIndex } from './authorization-index.js';
import type { AuthorizationContext } from './field-guard.js';
import { type Requirement, describeRequirement, evaluate, isEmptyRequirement } from './requirement.js';

/** What the transform records on each guarded field: its requirement, and its resolver before guarding (undefined: the default one). */
interface GuardedFieldExtensions {
  readonly authorization: Requirement;
  readonly unguardedResolve: GraphQLFieldResolver<unknown, unknown> | undefined;
}

/** The record of a field the transform guarded, or undefined for a field it left alone. */
function guardedExtensions(extensions: Readonly<Record<string, unknown>> | null | undefined): GuardedFieldExtensions | undefined {
  return extensions != null && 'unguardedResolve' in extensions ? (extensions as unknown as GuardedFieldExtensions) : undefined;
}

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
        extensions: { ...fieldConfig.extensions, authorization: requirement, unguardedResolve: fieldConfig.resolve },
        resolve(source, args, context: AuthorizationContext, info) {
          const denied = context.guard.check(requirement);
          if (denied) throw denied;
          return resolve(source, args, context, info);
        },
        // A subscription root field's event stream is opened by `subscribe`: guarded the same way.
        ...(fieldConfig.subscribe
          ? {
              subscribe(source: unknown, args: Record<string, unknown>, context: AuthorizationContext, info: Parameters<GraphQLFieldResolver<unknown, unknown>>[3]) {
                const denied = context.guard.check(requirement);
                if (denied) throw denied;
                return fieldConfig.subscribe!(source, args, context, info);
              },
            }
          : {}),
      };
    },
  });
  return { schema: transformed, index };
}

/**
 * The guarded schema partially evaluated for one principal shape (kind and scope set, all that
 * a decision depends on): each field whose requirement this shape satisfies gets its own resolver
 * back — its guard could only ever say "allowed" to such a principal — and every field it would
 * be denied keeps its guard. Nothing depends on the operation or its plan, so the guarantee stays
 * the same: a field denied to the caller resolves only through its guard. What it saves is the
 * guard's call on every allowed field, and lets graphql-jit read plain properties inline again.
 */
export function specializeForPrincipal(guarded: GraphQLSchema, principal: Principal): GraphQLSchema {
  return mapSchema(guarded, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig) => {
      const guard = guardedExtensions(fieldConfig.extensions);
      if (guard === undefined || !evaluate(guard.authorization, principal).allowed) return fieldConfig;
      const { resolve: _guarded, ...rest } = fieldConfig;
      return guard.unguardedResolve === undefined ? rest : { ...rest, resolve: guard.unguardedResolve };
    },
  });
}
