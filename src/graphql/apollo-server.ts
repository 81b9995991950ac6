import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { authorizationPlugin } from '../authz/authorization-plugin.js';
import type { AuthorizationMode } from '../authz/field-guard.js';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import { DEFAULT_EXECUTOR, type ExecutorKind } from '../config.js';
import { jitExecutionPlugin } from './jit-executor.js';
import type { ErrorFormatter } from './format-errors.js';
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
  /**
   * Leave schema details out of client errors: no "Did you mean …?" suggestions of field, type,
   * argument or enum value names (validation and variable errors). Default: false (the server
   * turns it on in production).
   */
  readonly hideSchemaDetails?: boolean;
  /** Accept batched requests (a JSON array body; their size is bounded by the HTTP handler). Default: false. */
  readonly batching?: boolean;
}

/**
 * Apollo Server configured for this API: authorization decided before execution, no stack
 * traces or internal messages in responses, and no cache-control plugin (cache hints are not
 * used, and it would wrap every resolver).
 */
export function createApollo(options: ApolloOptions): ApolloServer<RequestContext> {
  const formatError = errorFormatter(options.logger, options.hideSchemaDetails === true);
  return new ApolloServer<RequestContext>({
    schema: options.schema,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: options.hideSchemaDetails === true,
    allowBatchedHttpRequests: options.batching === true,
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
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

/** graphql-js's suggestion at the end of a message, as Apollo's `hideSchemaDetailsFromClientErrors` removes it. */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * No stack traces or internal messages in responses: an unexpected error is logged and reported
 * as a bare internal error. With `hideSchemaDetails`, suggestions are removed from every message:
 * Apollo's option covers validation errors only, not variable errors such as
 * `Field "itemz" is not defined by type "PlaceOrderInput". Did you mean "items"?`.
 */
function errorFormatter(logger: Logger, hideSchemaDetails: boolean): ErrorFormatter {
  return (formatted, error) => {
    if (hideSchemaDetails && SUGGESTION.test(formatted.message)) formatted = { ...formatted, message: formatted.message.replace(SUGGESTION, '') };
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError || formatted.extensions?.['code'] !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    logger.error({ err: original }, 'unexpected error while resolving');
    return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR }, ...(formatted.path ? { path: formatted.path } : {}) };
  };
}

/**
 * graphql-jit execution. With the authorization layer on, each operation is compiled against the
 * schema specialised for the caller's kind and scopes: guards stay on exactly the fields this
 * caller would be denied.
 */
function jitExecutionFor(options: ApolloOptions, formatError: ErrorFormatter): ApolloServerPlugin<RequestContext> {
  if (options.authorization === false) return jitExecutionPlugin({ schema: options.schema, formatError });
  const schemaFor = principalSchemas(options.schema);
  return jitExecutionPlugin<RequestContext>({ schema: options.schema, formatError, schemaFor: (context) => schemaFor(context.principal) });
}
