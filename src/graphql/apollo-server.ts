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
import { jitGateway } from './jit-executor.js';
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
 * traces or internal messages in responses, and no cache-control plugin (cache hints are not
 * used, and it would wrap every resolver).
 */
export function createApollo(options: ApolloOptions): ApolloServer<RequestContext> {
  return new ApolloServer<RequestContext>({
    ...((options.executor ?? DEFAULT_EXECUTOR) === 'jit' ? { gateway: jitGatewayFor(options) } : { schema: options.schema }),
    includeStacktraceInErrorResponses: false,
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
    ],
    formatError: (formatted, error) => {
      const original = unwrapResolverError(error);
      if (original instanceof GraphQLError || formatted.extensions?.['code'] !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
      options.logger.error({ err: original }, 'unexpected error while resolving');
      return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR }, ...(formatted.path ? { path: formatted.path } : {}) };
    },
  });
}

/**
 * graphql-jit through Apollo's gateway interface. With the authorization layer on, each operation
 * is compiled against the schema specialised for the caller's kind and scopes: guards stay on
 * exactly the fields this caller would be denied.
 */
function jitGatewayFor(options: ApolloOptions) {
  if (options.authorization === false) return jitGateway(options.schema);
  const schemaFor = principalSchemas(options.schema);
  return jitGateway(options.schema, { schemaFor: (context) => schemaFor((context as RequestContext).principal) });
}
