import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { authorizationPlugin } from '../authz/authorization-plugin.js';
import type { AuthorizationMode } from '../authz/field-guard.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import { DEFAULT_EXECUTOR, type ExecutorKind } from '../config.js';
import { jitExecutionPlugin } from './jit-executor.js';
import type { ErrorFormatter } from './format-errors.js';
import { internalErrorFormatter, internalErrorLoggingPlugin, reportInternalErrors } from './internal-errors.js';
import { principalSchemas } from '../authz/principal-schemas.js';

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly index: AuthorizationIndex;
  readonly mode: AuthorizationMode;
  readonly realm: string;
  readonly resourceMetadataUrl: string;
  /** DPoP proof algorithms, when DPoP is accepted: challenges then offer the DPoP scheme too. */
  readonly dpopAlgorithms?: readonly string[];
  readonly logger: Logger;
  readonly plugins?: ReadonlyArray<ApolloServerPlugin<RequestContext>>;
  /** Default: {@link DEFAULT_EXECUTOR}. */
  readonly executor?: ExecutorKind;
  /** Leave out the authorization plugin (benchmarks of the layer's cost only). Default: true. */
  readonly authorization?: boolean;
}

/**
 * Apollo Server configured for this API: authorization decided before execution, no stack
 * traces or internal messages in responses (an internal error is answered as a bare
 * INTERNAL_SERVER_ERROR and logged once, at `error`, through the request's logger), and no
 * cache-control plugin (cache hints are not used, and it would wrap every resolver).
 */
export function createApollo(options: ApolloOptions): ApolloServer<RequestContext> {
  const formatError = internalErrorFormatter(options.logger);
  return new ApolloServer<RequestContext>({
    schema: options.schema,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      internalErrorLoggingPlugin<RequestContext>(),
      ...(options.authorization === false
        ? []
        : [
            authorizationPlugin({
              index: options.index,
              mode: options.mode,
              realm: options.realm,
              resourceMetadataUrl: options.resourceMetadataUrl,
              ...(options.dpopAlgorithms ? { dpopAlgorithms: options.dpopAlgorithms } : {}),
            }),
          ]),
      ...(options.plugins ?? []),
      // Last: it answers every operation that no plugin before it has answered.
      ...((options.executor ?? DEFAULT_EXECUTOR) === 'jit' ? [jitExecutionFor(options, formatError)] : []),
    ],
    formatError,
  });
}

/**
 * graphql-jit execution. With the authorization layer on, each operation is compiled against the
 * schema specialised for the caller's kind and scopes: guards stay on exactly the fields this
 * caller would be denied.
 */
function jitExecutionFor(options: ApolloOptions, formatError: ErrorFormatter): ApolloServerPlugin<RequestContext> {
  const didEncounterErrors = (errors: readonly unknown[], context: RequestContext) => reportInternalErrors(errors, context.log);
  if (options.authorization === false) return jitExecutionPlugin<RequestContext>({ schema: options.schema, formatError, didEncounterErrors });
  const schemaFor = principalSchemas(options.schema);
  return jitExecutionPlugin<RequestContext>({ schema: options.schema, formatError, didEncounterErrors, schemaFor: (context) => schemaFor(context.principal) });
}
