import { type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { type FormattedExecutionResult, Kind, type OperationDefinitionNode } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { setBounded } from '../bounded-map.js';
import { resolvedOperation } from '../resolved-operation.js';

export interface PublicResponseCacheOptions {
  /** Root fields whose whole subtree is public and depends only on catalog data. */
  readonly rootFields: ReadonlySet<string>;
  /** The catalog version, read per request: bumped by the database whenever `products` changes. */
  readonly readVersion: () => Promise<number>;
  /** Bound on cached responses. Default: 1000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly version: number;
  readonly result: FormattedExecutionResult;
}

function isCatalogOnly(operation: OperationDefinitionNode, rootFields: ReadonlySet<string>): boolean {
  return (
    operation.operation === 'query' &&
    operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && (rootFields.has(s.name.value) || s.name.value === '__typename'))
  );
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
  const entries = new Map<string, Entry>();
  return {
    async requestDidStart(start) {
      // A request with a token is never served nor stored: no hooks for it at all.
      if (start.contextValue.principal.kind !== 'anonymous') return;
      let pending: { key: string; version: number } | undefined;
      return {
        async responseForOperation(rc) {
          const operation = resolvedOperation(rc);
          if (operation === undefined || !isCatalogOnly(operation, options.rootFields)) return null;
          const key = `${rc.queryHash}\u0000${rc.operationName ?? ''}\u0000${JSON.stringify(rc.request.variables ?? {})}`;
          const version = await options.readVersion();
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
          entries.delete(pending.key); // stored again as the newest
          setBounded(entries, pending.key, { version: pending.version, result: structuredClone(body.singleResult) }, maxEntries);
        },
      };
    },
  };
}
