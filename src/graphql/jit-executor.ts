import { type ApolloServerPlugin, type BaseContext, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import { BREAK, type DocumentNode, type ExecutionResult, type GraphQLError, type GraphQLSchema, visit } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { resolvedOperation } from '../lib/resolved-operation.js';
import { type ErrorFormatter, formatExecutionErrors } from './format-errors.js';

/** Compiled operations kept at most, over all documents and schema variants. */
const DEFAULT_MAX_COMPILED = 1000;

export interface JitExecutionOptions<TContext> {
  /** The schema operations are validated against and, by default, compiled against. */
  readonly schema: GraphQLSchema;
  /**
   * The schema to compile a request's operation against instead of `schema` (same types and
   * fields, other resolvers), with a key naming it; undefined: `schema`. Operations are compiled
   * and cached per document, operation name and key.
   */
  readonly schemaFor?: (context: TContext) => { readonly key: string; readonly schema: GraphQLSchema } | undefined;
  /** The server's `formatError`, applied to execution errors as Apollo Server applies it. Default: none. */
  readonly formatError?: ErrorFormatter;
  /**
   * Called with a response's execution errors (as graphql-jit raised them, before formatting),
   * where Apollo would call its plugins' `didEncounterErrors`, which do not run for this
   * plugin's answers. Default: none.
   */
  readonly didEncounterErrors?: (errors: readonly GraphQLError[], context: TContext) => void;
  /**
   * Compiled operations kept at most, counting each document × operation name × schema variant
   * (callers of many scope sets each get their own); past it the least recently used documents
   * go, with all their variants. Default: 1000.
   */
  readonly maxCompiled?: number;
}

/**
 * Executes operations with graphql-jit: each operation is compiled once into a specialised
 * function, cached per parsed document (Apollo Server hands the same DocumentNode for a repeated
 * query string), operation name and schema variant.
 *
 * It runs as the last `responseForOperation` hook: parsing, validation and every other plugin's
 * decision (the authorization plugin's rejection, the public response cache) come first, and the
 * response goes through `willSendResponse` like any other. Errors are formatted as Apollo
 * formats those of its own executor. Two cases are handed back to Apollo's executor (graphql-js),
 * which then answers exactly as it always does, before anything has run: an operation Apollo
 * could not resolve or graphql-jit cannot compile, and variables that fail coercion.
 *
 * Why not Apollo's gateway interface, the other way to replace execution: for each request Apollo
 * builds the gateway's request context with a `status` getter and setter written in an object
 * literal. V8 keeps such accessor closures alive from old-space metadata until the next full GC,
 * so the whole request (context, loaders, rows, result) survived every young-generation GC and was
 * promoted: ten times the bytes promoted per scavenge and 2.5 times the pause (measured with
 * `--trace-gc-nvp` on Q1), a few percent of all CPU time on small queries.
 */
export function jitExecutionPlugin<TContext extends BaseContext>(options: JitExecutionOptions<TContext>): ApolloServerPlugin<TContext> {
  const maxCompiled = options.maxCompiled ?? DEFAULT_MAX_COMPILED;
  const conditional = new WeakMap<DocumentNode, boolean>();
  const usesConditionalDirectives = (document: DocumentNode): boolean => {
    let found = conditional.get(document);
    if (found === undefined) {
      found = false;
      visit(document, {
        Directive(node) {
          if (node.name.value === 'skip' || node.name.value === 'include') {
            found = true;
            return BREAK;
          }
          return undefined;
        },
      });
      conditional.set(document, found);
    }
    return found;
  };
  // Per document, per operation name and schema variant; a document's size is its variants.
  const compiled = new LRUCache<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>({ maxSize: maxCompiled, sizeCalculation: (byKey) => Math.max(byKey.size, 1) });
  const formatError: ErrorFormatter = options.formatError ?? ((formatted) => formatted);

  const compile = (document: DocumentNode, operationName: string | null, context: TContext): CompiledQuery | ExecutionResult => {
    const variant = options.schemaFor?.(context);
    const key = variant === undefined ? (operationName ?? '') : `${operationName ?? ''}\u0000${variant.key}`;
    const found = compiled.get(document)?.get(key);
    if (found !== undefined) return found;
    const entry = compileQuery(variant?.schema ?? options.schema, document, operationName ?? undefined);
    // A new map (lru-cache sizes a value when it is set, not when it changes): the document's size
    // counts the new variant, and older documents make room.
    compiled.set(document, new Map(compiled.get(document)).set(key, entry));
    return entry;
  };

  // The same listener serves every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<TContext> = {
    async responseForOperation(rc) {
      const operation = resolvedOperation(rc);
      // Subscriptions are answered by Apollo's own handling (they are served over WebSocket).
      if (operation === undefined || operation.operation === 'subscription') return null;
      // graphql-jit 0.8.9 runs a field excluded by @skip/@include whose selection holds a fragment
      // when the same response key is selected again (property-limits.test.ts): such a response
      // could hold fields the operation limits never measured. Documents using either directive
      // are executed by graphql-js.
      if (usesConditionalDirectives(rc.document)) return null;
      const entry = compile(rc.document, rc.operationName, rc.contextValue);
      if (!isCompiledQuery(entry)) return null;
      const result = await entry.query(undefined, rc.contextValue, rc.request.variables ?? {});
      // Only variable coercion ends without data; nothing has executed.
      if (result.data === undefined) return null;
      if (result.errors === undefined || result.errors.length === 0) {
        return { http: { headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: result.data } } };
      }
      options.didEncounterErrors?.(result.errors, rc.contextValue);
      const { errors, http } = formatExecutionErrors(result.errors, formatError);
      return { http, body: { kind: 'single', singleResult: { data: result.data, errors } } };
    },
  };

  return {
    async requestDidStart() {
      return listener;
    },
    async serverWillStart() {
      return {
        async serverWillStop() {
          compiled.clear();
        },
      };
    },
  };
}
