/**
 * Apollo Server as src/graphql/apollo-server.ts builds it, with the authorization layer removed:
 * the schema without the transform (`executableSchema()`), no authorization plugin, operations
 * compiled against the one schema. Composed here from the project's parts, because src/ has no
 * switch that turns authorization off; keep it in step with `createApollo` by hand.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { OperationAnalyzer } from '../../src/authz/operation-analyzer.js';
import { operationLimitsPlugin } from '../../src/authz/operation-limits.js';
import { DEFAULT_MAX_TOKENS, DEFAULT_OPERATION_LIMITS, type ExecutorKind, type LimitsMode, type OperationLimits } from '../../src/config.js';
import type { RequestContext } from '../../src/graphql/context.js';
import { internalErrorFormatter, internalErrorLoggingPlugin, reportInternalErrors } from '../../src/graphql/internal-errors.js';
import { jitExecutionPlugin } from '../../src/graphql/jit-executor.js';
import type { PersistedDocumentsSetup } from '../../src/graphql/persisted-documents-setup.js';
import type { Logger } from '../../src/logger.js';

export interface LayerlessApolloOptions {
  /** The schema without the authorization transform. */
  readonly schema: GraphQLSchema;
  readonly analyzer: OperationAnalyzer;
  readonly executor: ExecutorKind;
  readonly logger: Logger;
  readonly limits?: { readonly mode: LimitsMode; readonly maxTokens: number; readonly operation: OperationLimits };
  readonly persistedDocuments?: PersistedDocumentsSetup;
  readonly batching?: boolean;
  readonly plugins?: ReadonlyArray<ApolloServerPlugin<RequestContext>>;
}

export function layerlessApollo(options: LayerlessApolloOptions): ApolloServer<RequestContext> {
  const formatError = internalErrorFormatter(options.logger);
  const limits = options.limits ?? { mode: 'enforce', maxTokens: DEFAULT_MAX_TOKENS, operation: DEFAULT_OPERATION_LIMITS };
  return new ApolloServer<RequestContext>({
    schema: options.schema,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: limits.maxTokens },
    ...(options.persistedDocuments ? { persistedQueries: options.persistedDocuments.persistedQueries } : {}),
    allowBatchedHttpRequests: options.batching === true,
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      internalErrorLoggingPlugin<RequestContext>(),
      ...(options.persistedDocuments?.plugin ? [options.persistedDocuments.plugin] : []),
      ...(options.plugins ?? []),
      operationLimitsPlugin<RequestContext>({ analyzer: options.analyzer, limits: limits.operation, mode: limits.mode }),
      ...(options.executor === 'jit'
        ? [jitExecutionPlugin<RequestContext>({ schema: options.schema, formatError, didEncounterErrors: (errors, context) => reportInternalErrors(errors, context.log) })]
        : []),
    ],
    formatError,
  });
}
