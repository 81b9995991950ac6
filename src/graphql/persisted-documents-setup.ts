import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { ConfigError, type PersistedDocumentsSettings } from '../config.js';
import { ManifestError } from '../lib/persisted-query-manifest.js';
import type { RequestContext } from './context.js';
import { persistedDocumentsPlugin } from './persisted-documents-plugin.js';
import { createPersistedQueryCache } from './persisted-query-cache.js';
import { type TrustedDocuments, analyseTrustedDocuments } from './trusted-documents.js';

/** What Apollo Server needs for trusted documents and automatic persisted queries. */
export interface PersistedDocumentsSetup {
  /** The manifest's operations with their scopes and cost; undefined without a manifest. */
  readonly trusted: TrustedDocuments | undefined;
  /** Apollo's `persistedQueries` option: false when there is neither a manifest nor an APQ store. */
  readonly persistedQueries: { readonly cache: ReturnType<typeof createPersistedQueryCache> } | false;
  /** The check of every operation against the manifest; undefined in mode `off`. */
  readonly plugin: ApolloServerPlugin<RequestContext> | undefined;
}

/**
 * Builds trusted documents from the validated settings: analyses every manifest operation against
 * the schema (a {@link ConfigError} naming `PERSISTED_DOCUMENTS_FILE`, the entry and the operation
 * when one no longer validates), the persisted-query cache (manifest first, then bounded APQ;
 * registrations refused in `enforce` mode) and the checking plugin.
 */
export function setUpPersistedDocuments(settings: PersistedDocumentsSettings, schema: GraphQLSchema, index: AuthorizationIndex): PersistedDocumentsSetup {
  let trusted: TrustedDocuments | undefined;
  if (settings.manifest !== undefined) {
    try {
      trusted = analyseTrustedDocuments(schema, index, settings.manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      throw new ConfigError('PERSISTED_DOCUMENTS_FILE', error.message, error.index === undefined ? {} : { index: error.index });
    }
  }
  const byId = trusted?.byId ?? new Map<string, never>();
  const persistedQueries =
    trusted === undefined && settings.apqCacheBytes === 0
      ? (false as const)
      : { cache: createPersistedQueryCache({ trusted: byId, apqMaxBytes: settings.apqCacheBytes, acceptRegistrations: settings.mode !== 'enforce' }) };
  const plugin =
    settings.mode === 'off'
      ? undefined
      : persistedDocumentsPlugin({ mode: settings.mode, trusted: byId, ...(settings.bypassScope === undefined ? {} : { bypassScope: settings.bypassScope }) });
  return { trusted, persistedQueries, plugin };
}
