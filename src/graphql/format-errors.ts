import { HeaderMap, type HTTPGraphQLHead } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors.js';

/** Apollo Server's `formatError` option: the client-facing form of one error. */
export type ErrorFormatter = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** A partial HTTP head an error may carry in `extensions.http` (Apollo Server's convention). */
function isHttpHead(value: unknown): value is { status?: number; headers?: Map<string, string> } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (!('status' in value) || typeof value.status === 'number') &&
    (!('headers' in value) || value.headers instanceof Map)
  );
}

/**
 * The errors of an execution result as Apollo Server sends them when it executes an operation
 * itself (its `normalizeAndFormatErrors`, without stack traces), for results produced outside its
 * executor: every error becomes a GraphQLError, gets `extensions.code` (INTERNAL_SERVER_ERROR when
 * it has none) and goes through `formatError`; an `extensions.http` status or headers move to the
 * response's HTTP head; a formatter that throws yields a bare internal error.
 */
export function formatExecutionErrors(errors: readonly unknown[], formatError: ErrorFormatter): { errors: GraphQLFormattedError[]; http: HTTPGraphQLHead } {
  const http: HTTPGraphQLHead = { headers: new HeaderMap() };
  const formatted = errors.map((error) => {
    try {
      return formatError(enrich(error, http), error);
    } catch {
      return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
  });
  return { errors: formatted, http };
}

function enrich(error: unknown, http: HTTPGraphQLHead): GraphQLFormattedError {
  const graphqlError = toGraphQLError(error);
  // graphql-jit's errors have no extensions at all when their cause has none (a driver error).
  const own = graphqlError.extensions as GraphQLError['extensions'] | undefined;
  // `code` first and the spread last: a key added after a spread costs about 0.5 µs in V8 (see requestContextBuilder).
  const extensions: Record<string, unknown> = { code: ErrorCode.INTERNAL_SERVER_ERROR, ...own };
  if (extensions['code'] == null) extensions['code'] = ErrorCode.INTERNAL_SERVER_ERROR;
  const head = extensions['http'];
  if (isHttpHead(head)) {
    if (head.status) http.status = head.status;
    for (const [name, value] of head.headers ?? []) http.headers.set(name, value);
    delete extensions['http'];
  }
  // toJSON makes a new object on every call: it is ours to complete.
  return Object.assign(graphqlError.toJSON(), { extensions });
}

function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof Error) return new GraphQLError(error.message, { originalError: error });
  return new GraphQLError(`Unexpected error value: ${String(error)}`);
}
