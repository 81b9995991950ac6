import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

import { DatabaseUnavailableError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** What a client sees of an internal error: nothing but the code (and where, if it has a path). */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/**
 * Whether an error reaches the client as INTERNAL_SERVER_ERROR: anything thrown that is not a
 * GraphQLError (a driver error, a bug), and GraphQLErrors without a code or with that code
 * (graphql-js's own, such as a null non-null field). AppErrors and Apollo's request errors carry
 * their code and are answers, not faults.
 */
export function isInternalError(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (!(original instanceof GraphQLError)) return true;
  const code: unknown = original.extensions?.['code'];
  return code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR;
}

// Errors already logged, so that a request's error is logged once whichever path sees it first.
const reported = new WeakSet<object>();

/**
 * Logs each internal error of `errors` once, at `error` (a DatabaseUnavailableError at `warn`), with its cause (`err`, the thrown
 * value) and its path, through `log` (a request's logger carries the request id). Errors
 * logged before are skipped.
 */
export function reportInternalErrors(errors: readonly unknown[], log: Logger): void {
  for (const error of errors) {
    const unavailable = unwrapResolverError(error) instanceof DatabaseUnavailableError;
    if (!unavailable && !isInternalError(error)) continue;
    if (typeof error === 'object' && error !== null) {
      if (reported.has(error)) continue;
      reported.add(error);
    }
    if (unavailable) {
      // An outage, not a bug: a warning with the driver's reason (never SQL parameters).
      const cause = (unwrapResolverError(error) as DatabaseUnavailableError).cause;
      log.warn({ event: 'database.unavailable', reason: cause instanceof Error ? cause.message : undefined }, 'database unavailable: the client was answered 503 DATABASE_UNAVAILABLE');
      continue;
    }
    const cause = unwrapResolverError(error);
    const path = error instanceof GraphQLError && error.path ? error.path.join('.') : undefined;
    log.error({ event: 'graphql.internal_error', err: cause, ...(path === undefined ? {} : { path }) }, 'internal error: the client was answered INTERNAL_SERVER_ERROR');
  }
}

/**
 * Logs a request's internal errors through the request's logger (Apollo's `didEncounterErrors`,
 * which runs before its errors are formatted). graphql-jit's answers do not pass through this
 * hook: its plugin reports them itself (see `createApollo`).
 */
export function internalErrorLoggingPlugin<TContext extends { readonly log: Logger }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors(rc) {
          reportInternalErrors(rc.errors, rc.contextValue.log);
        },
      };
    },
  };
}

/**
 * Apollo Server's `formatError`: an internal error becomes a bare INTERNAL_SERVER_ERROR (no
 * message, extensions or stack of the cause); everything else is sent as formatted. An internal
 * error no request saw (one raised outside a request pipeline) is logged here, through `fallback`.
 */
export function internalErrorFormatter(fallback: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    if (!isInternalError(error) && formatted.extensions?.['code'] !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    reportInternalErrors([error], fallback);
    return { message: INTERNAL_ERROR_MESSAGE, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR }, ...(formatted.path ? { path: formatted.path } : {}) };
  };
}
