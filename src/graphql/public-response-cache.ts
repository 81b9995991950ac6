import { type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { createHash } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal.js';
import type { AnalysedRequest, OperationAnalyzer } from '../authz/operation-analyzer.js';

export interface PublicResponseCacheOptions {
  /** Root fields whose whole subtree is public and depends only on catalog data. */
  readonly rootFields: ReadonlySet<string>;
  /** The catalog version, read per request: bumped by the database whenever `products` changes. */
  readonly readVersion: () => Promise<number>;
  /** Bound on cached responses; the least recently used go first. Default: 1000. */
  readonly maxEntries?: number;
  /** The server's one operation analysis (the limits and the authorization plan read it too). */
  readonly analyzer: OperationAnalyzer;
}

/** Longest JSON of an operation's declared variables that is cached; larger requests are not. */
const MAX_VARIABLES_KEY_LENGTH = 1024;

/**
 * The part of the key the variables contribute: a hash of the operation's declared variables as
 * execution coerces them (undeclared ones cannot change a response, and are never read), or
 * undefined when they are too large to cache.
 */
function variablesKey({ operation, variables }: AnalysedRequest): string | undefined {
  if (!operation.variableDefinitions || operation.variableDefinitions.length === 0) return '';
  const json = JSON.stringify(variables);
  if (json.length > MAX_VARIABLES_KEY_LENGTH) return undefined;
  return createHash('sha256').update(json).digest('base64url');
}

interface Entry {
  readonly version: number;
  readonly result: FormattedExecutionResult;
}

/** A query whose root fields, fragments expanded, are all catalog fields (or `__typename`). */
function isCatalogOnly({ analysis }: AnalysedRequest, rootFields: ReadonlySet<string>): boolean {
  return analysis.operationType === 'query' && analysis.root !== undefined && analysis.root.keys.every((k) => k.slots.every((s) => rootFields.has(s.fieldName) || s.fieldName === '__typename'));
}

/**
 * Answers repeated public catalog queries from anonymous callers from memory. Only requests
 * without a token are served or stored (nothing that depends on a token is shared between
 * callers), only operations whose root fields are all catalog fields, and only successful
 * results. Each response is stored with the catalog version read before it executed; a cached
 * response is served only while the version is unchanged, so any change to a product — stock,
 * price, by this process or any other — invalidates it on the next request.
 */
export function publicResponseCachePlugin<TContext extends { readonly principal: Principal }>(options: PublicResponseCacheOptions): ApolloServerPlugin<TContext> {
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new LRUCache<string, Entry>({ max: maxEntries });
  return {
    async requestDidStart(start) {
      // A request with a token is never served nor stored: no hooks for it at all.
      if (start.contextValue.principal.kind !== 'anonymous') return;
      let pending: { key: string; version: number } | undefined;
      return {
        async responseForOperation(rc) {
          const analysed = options.analyzer.forRequest(rc);
          if (analysed === undefined || !isCatalogOnly(analysed, options.rootFields)) return null;
          const variables = variablesKey(analysed);
          if (variables === undefined) return null;
          const key = `${rc.queryHash}\u0000${rc.operationName ?? ''}\u0000${variables}`;
          let version: number;
          try {
            version = await options.readVersion();
          } catch {
            // No version, no cache: the operation runs, and answers the database's failure as
            // any other request does (503 DATABASE_UNAVAILABLE), not as a plugin's 500.
            return null;
          }
          const hit = entries.get(key);
          if (hit && hit.version === version) {
            return { http: { status: 200, headers: new HeaderMap([['x-catalog-cache', 'hit']]) }, body: { kind: 'single', singleResult: hit.result } };
          }
          pending = { key, version };
          return null;
        },
        async willSendResponse(rc) {
          const body = rc.response.body;
          if (!pending || body.kind !== 'single' || body.singleResult.errors || (rc.response.http.status ?? 200) !== 200) return;
          entries.set(pending.key, { version: pending.version, result: structuredClone(body.singleResult) });
        },
      };
    },
  };
}
