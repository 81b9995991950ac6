import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { ChallengeBuilder } from '../auth/challenge-builder.js';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { authorizationPlugin } from '../authz/authorization-plugin.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import { type AuthorizationMode, DEFAULT_EXECUTOR, DEFAULT_MAX_TOKENS, DEFAULT_OPERATION_LIMITS, type ExecutorKind, type LimitsMode, type OperationLimits } from '../config.js';
import { OperationAnalyzer } from '../authz/operation-analyzer.js';
import { operationLimitsPlugin } from '../authz/operation-limits.js';
import { jitExecutionPlugin } from './jit-executor.js';
import { subscriptionsOverHttpPlugin } from './subscriptions/subscriptions-over-http.js';
import type { ErrorFormatter } from './format-errors.js';
import { internalErrorFormatter, internalErrorLoggingPlugin, reportInternalErrors } from './internal-errors.js';
import { principalSchemas } from '../authz/principal-schemas.js';
import type { PersistedDocumentsSetup } from './persisted-documents-setup.js';
import type { Metrics } from '../lib/metrics.js';
import { operationTelemetryPlugin } from './operation-telemetry-plugin.js';

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly index: AuthorizationIndex;
  readonly mode: AuthorizationMode;
  /** The server's one challenge builder, for the authorization plugin's 401 and 403 answers. */
  readonly challenges: ChallengeBuilder;
  readonly logger: Logger;
  readonly plugins?: ReadonlyArray<ApolloServerPlugin<RequestContext>>;
  /** Default: {@link DEFAULT_EXECUTOR}. */
  readonly executor?: ExecutorKind;
  /** The one operation analysis, shared with plugins given in `plugins` (the catalog cache); default: a new one. */
  readonly analyzer?: OperationAnalyzer;
  /** Operation limits; default: {@link DEFAULT_OPERATION_LIMITS}, {@link DEFAULT_MAX_TOKENS}, `enforce`. */
  readonly limits?: { readonly mode: LimitsMode; readonly maxTokens: number; readonly operation: OperationLimits };
  /** Trusted documents and automatic persisted queries. Default: no manifest, Apollo's own APQ cache. */
  readonly persistedDocuments?: PersistedDocumentsSetup;
  /**
   * Leave schema details out of client errors: no "Did you mean …?" suggestions of field, type,
   * argument or enum value names (validation and variable errors). Default: false (the server
   * turns it on in production).
   */
  readonly hideSchemaDetails?: boolean;
  /** Accept batched requests (a JSON array body; their size is bounded by the HTTP handler). Default: false. */
  readonly batching?: boolean;
  /** Counts authorization decisions and limit refusals. Default: none. */
  readonly metrics?: Metrics;
}

/**
 * Apollo Server configured for this API: authorization decided before execution, no stack
 * traces or internal messages in responses (an internal error is answered as a bare
 * INTERNAL_SERVER_ERROR and logged once, at `error`, through the request's logger), and no
 * cache-control plugin (cache hints are not used, and it would wrap every resolver).
 */
export function createApollo(options: ApolloOptions): ApolloServer<RequestContext> {
  const formatError = errorFormatter(options.logger, options.hideSchemaDetails === true);
  const limits = options.limits ?? { mode: 'enforce', maxTokens: DEFAULT_MAX_TOKENS, operation: DEFAULT_OPERATION_LIMITS };
  // One analysis of each operation, shared by the limits and the authorization plan.
  const analyzer = options.analyzer ?? new OperationAnalyzer(options.index);
  return new ApolloServer<RequestContext>({
    schema: options.schema,
    includeStacktraceInErrorResponses: false,
    // The entry points own SIGTERM/SIGINT (graceful shutdown: drain, then stop Apollo); Apollo's
    // own handlers (installed outside NODE_ENV=test) would stop it under in-flight requests and re-raise the signal.
    stopOnTerminationSignals: false,
    // A document over the token limit is refused while it is parsed (the HTTP layer refuses it earlier still).
    parseOptions: { maxTokens: limits.maxTokens },
    // Apollo's own log lines go through the structured logger, never straight to stderr.
    logger: apolloLogger(options.logger),
    ...(options.persistedDocuments ? { persistedQueries: options.persistedDocuments.persistedQueries } : {}),
    hideSchemaDetailsFromClientErrors: options.hideSchemaDetails === true,
    allowBatchedHttpRequests: options.batching === true,
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      internalErrorLoggingPlugin<RequestContext>(),
      subscriptionsOverHttpPlugin<RequestContext>(),
      operationTelemetryPlugin<RequestContext>(),
      // Refuses an untrusted document in didResolveOperation, before any plugin answers it.
      ...(options.persistedDocuments?.plugin ? [options.persistedDocuments.plugin] : []),
      authorizationPlugin({ index: options.index, mode: options.mode, challenges: options.challenges, analyzer, ...(options.metrics ? { metrics: options.metrics } : {}) }),
      ...(options.plugins ?? []),
      // After the catalog response cache: the cost it adds to a response is never stored there.
      operationLimitsPlugin<RequestContext>({ analyzer, limits: limits.operation, mode: limits.mode, ...(options.metrics ? { metrics: options.metrics } : {}) }),
      // Last: it answers every operation that no plugin before it has answered.
      ...((options.executor ?? DEFAULT_EXECUTOR) === 'jit' ? [jitExecutionFor(options, formatError)] : []),
    ],
    formatError,
  });
}

/** Apollo Server's logger interface, written to the structured logger. */
function apolloLogger(logger: Logger) {
  const line = (level: 'info' | 'warn' | 'error') => (message?: unknown) => logger[level]({ source: 'apollo-server' }, message instanceof Error ? message.message : String(message));
  return { debug: () => undefined, info: line('info'), warn: line('warn'), error: line('error') };
}

/** graphql-js's suggestion at the end of a message, as Apollo's `hideSchemaDetailsFromClientErrors` removes it. */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * No stack traces or internal messages in responses: an unexpected error is logged once and
 * reported as a bare internal error ({@link internalErrorFormatter}). With `hideSchemaDetails`, suggestions are removed from every message:
 * Apollo's option covers validation errors only, not variable errors such as
 * `Field "itemz" is not defined by type "PlaceOrderInput". Did you mean "items"?`.
 */
function errorFormatter(logger: Logger, hideSchemaDetails: boolean): ErrorFormatter {
  const internal = internalErrorFormatter(logger);
  return (formatted, error) => {
    if (hideSchemaDetails && SUGGESTION.test(formatted.message)) formatted = { ...formatted, message: formatted.message.replace(SUGGESTION, '') };
    return internal(formatted, error);
  };
}

/**
 * graphql-jit execution. Each operation is compiled against the schema specialised for the
 * caller's kind and scopes: guards stay on exactly the fields this caller would be denied.
 */
function jitExecutionFor(options: ApolloOptions, formatError: ErrorFormatter): ApolloServerPlugin<RequestContext> {
  const didEncounterErrors = (errors: readonly unknown[], context: RequestContext) => reportInternalErrors(errors, context.log);
  const schemaFor = principalSchemas(options.schema);
  return jitExecutionPlugin<RequestContext>({ schema: options.schema, formatError, didEncounterErrors, schemaFor: (context) => schemaFor(context.principal) });
}
