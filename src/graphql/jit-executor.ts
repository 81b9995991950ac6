import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';


/** Compiled operations kept at most (per document identity; Apollo reuses parsed documents). */
const MAX_COMPILED = 1000;

export interface JitGatewayOptions {
  /**
   * The schema to compile a request's operation against instead of `schema` (same types and
   * fields, other resolvers), with a key naming it; undefined: `schema`. Operations are compiled
   * and cached per document, operation name and key.
   */
  readonly schemaFor?: (context: unknown) => { readonly key: string; readonly schema: GraphQLSchema } | undefined;
}

/**
 * Executes operations with graphql-jit: each operation is compiled once into a specialised
 * function and cached per parsed document (Apollo Server hands the same DocumentNode for a
 * repeated query string). Plugged into Apollo Server through its gateway interface, which is
 * the supported way to replace execution; parsing, validation and every plugin hook (including
 * the pre-execution authorization decision) run unchanged before it.
 */
export function jitGateway(schema: GraphQLSchema, options: JitGatewayOptions = {}): GatewayInterface {
  const compiled = new Map<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>();
  let notify: ((ctx: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | undefined;

  const compile = (document: DocumentNode, operationName: string | null | undefined, context: unknown): CompiledQuery | ExecutionResult => {
    let byName = compiled.get(document);
    if (!byName) {
      if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as DocumentNode);
      compiled.set(document, (byName = new Map()));
    }
    const variant = options.schemaFor?.(context);
    const key = variant === undefined ? (operationName ?? '') : `${operationName ?? ''}\u0000${variant.key}`;
    let entry = byName.get(key);
    if (!entry) {
      entry = compileQuery(variant?.schema ?? schema, document, operationName ?? undefined);
      byName.set(key, entry);
    }
    return entry;
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const entry = compile(requestContext.document, requestContext.operationName, requestContext.context);
    if (!isCompiledQuery(entry)) return entry as Awaited<ReturnType<GatewayExecutor>>;
    return (await entry.query(undefined, requestContext.context, requestContext.request.variables ?? {})) as Awaited<ReturnType<GatewayExecutor>>;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      notify = callback;
      return () => {
        notify = undefined;
      };
    },
    async load() {
      notify?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return { executor };
    },
    async stop() {
      compiled.clear();
    },
  };
}
