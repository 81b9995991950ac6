import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { Principal } from '../auth/principal.js';
import type { PersistedDocumentsMode } from '../config.js';
import { PersistedQueryNotInListError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface PersistedDocumentsPluginOptions {
  /** `audit`: unknown operations run and are logged; `enforce`: they are refused. */
  readonly mode: Exclude<PersistedDocumentsMode, 'off'>;
  /** Ids (SHA-256 of the body) of the trusted documents. */
  readonly trusted: ReadonlyMap<string, unknown>;
  /** Tokens carrying this scope may send any document. Default: none. */
  readonly bypassScope?: string;
}

interface PluginContext {
  readonly principal: Principal;
  readonly log: Logger;
}

/**
 * Trusted documents. In `didResolveOperation` — after the context (and so the principal) exists,
 * before any plugin answers or anything executes — compares the request's `queryHash` (the
 * SHA-256 of the document Apollo parsed, whether the client sent it or its hash) with the
 * manifest's ids. An unknown document from a caller without the bypass scope is logged (`audit`,
 * one line: operation name and hash, never variables or tokens) or refused with HTTP 400
 * `PERSISTED_QUERY_NOT_IN_LIST` (`enforce`). Throwing here also keeps Apollo from registering
 * the document as an automatic persisted query.
 */
export function persistedDocumentsPlugin(options: PersistedDocumentsPluginOptions): ApolloServerPlugin<PluginContext> {
  const listener: GraphQLRequestListener<PluginContext> = {
    async didResolveOperation(rc) {
      const refusal = checkTrustedDocument(options, rc.queryHash, rc.operationName ?? null, rc.contextValue);
      if (refusal) throw refusal;
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/**
 * The one trusted-documents decision, for HTTP (the plugin above) and WebSocket subscribes: a
 * document whose hash is in the manifest, or from a caller holding the bypass scope, passes; any
 * other is logged (`audit`) or refused (`enforce`: the error to answer with is returned).
 */
export function checkTrustedDocument(
  options: PersistedDocumentsPluginOptions,
  queryHash: string,
  operationName: string | null,
  caller: PluginContext,
): PersistedQueryNotInListError | undefined {
  if (options.trusted.has(queryHash)) return undefined;
  if (options.bypassScope !== undefined && caller.principal.scopes.has(options.bypassScope)) return undefined;
  if (options.mode === 'enforce') return new PersistedQueryNotInListError();
  caller.log.info({ event: 'persisted_documents.unknown_operation', operationName, queryHash }, 'operation not in the persisted documents manifest (audit)');
  return undefined;
}
