import { GraphQLError } from 'graphql';

/** Error codes that clients see in `errors[].extensions.code`. Stable: clients branch on them. */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  BAD_REQUEST = 'BAD_REQUEST',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  /** The request body is larger than the server accepts (HTTP 413). */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** A batched request holds more operations than the server accepts (HTTP 400). */
  BATCH_LIMIT_EXCEEDED = 'BATCH_LIMIT_EXCEEDED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** The database cannot be reached or did not answer in time (HTTP 503 with Retry-After): nothing was changed, retry later. */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** Operation limits (HTTP 400, before execution): each names the limit it exceeds. */
  DOCUMENT_TOO_LARGE = 'DOCUMENT_TOO_LARGE',
  OPERATION_TOO_DEEP = 'OPERATION_TOO_DEEP',
  TOO_MANY_ALIASES = 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS = 'TOO_MANY_ROOT_FIELDS',
  /** A WebSocket connection or subject has as many active subscriptions as allowed. */
  TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS',
  TOO_MANY_SELECTIONS = 'TOO_MANY_SELECTIONS',
  TOO_MANY_DIRECTIVES = 'TOO_MANY_DIRECTIVES',
  OPERATION_TOO_COMPLEX = 'OPERATION_TOO_COMPLEX',
  INTROSPECTION_TOO_COMPLEX = 'INTROSPECTION_TOO_COMPLEX',
  SLICING_ARGUMENT_REQUIRED = 'SLICING_ARGUMENT_REQUIRED',
  /** Trusted documents in `enforce` mode: the operation is not in the manifest (Apollo Router's code). */
  PERSISTED_QUERY_NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST',
}

/**
 * Turns stack trace capture off until the returned function is called (in a `finally`), for
 * errors that are expected outcomes rather than faults: a denied field, a refused token. Capturing
 * frames is most of what such an error costs, and a flood of them (garbage tokens) should cost little.
 */
export function suspendStackTraces(): () => void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return () => {
    Error.stackTraceLimit = limit;
  };
}

/** Builds an error with {@link suspendStackTraces} in effect. */
export function withoutStackTrace<T>(make: () => T): T {
  const restore = suspendStackTraces();
  try {
    return make();
  } finally {
    restore();
  }
}

/** Extra, client-safe detail attached to an error's extensions. */
export type ErrorDetail = Readonly<Record<string, unknown>>;

/**
 * A domain or request error with a client-visible code. Messages are written for clients:
 * they never contain tokens, secrets or internal detail.
 *
 * These are expected outcomes (a denied field, bad input, a missing order), not faults, so they
 * carry no stack trace: capturing one, and formatting it when GraphQL wraps the error with its
 * path (through source maps in development), cost more than the rest of a denied field.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}) {
    const restore = suspendStackTraces();
    try {
      super(message, { extensions: { ...detail, code } });
    } finally {
      restore();
    }
    this.code = code;
    this.name = 'AppError';
  }
}

/** Invalid client input. `field` names the offending input field (e.g. `input.items[0].quantity`). */
export class BadUserInputError extends AppError {
  constructor(field: string, message: string) {
    super(ErrorCode.BAD_USER_INPUT, message, { field });
  }
}

/** The object does not exist or the caller may not know it exists (indistinguishable on purpose). */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super(ErrorCode.NOT_FOUND, `${what} not found`);
  }
}

/** The request is valid but conflicts with the current state (stock, order lifecycle, idempotency). */
export class ConflictError extends AppError {
  constructor(reason: string, message: string, detail: ErrorDetail = {}) {
    super(ErrorCode.CONFLICT, message, { ...detail, reason });
  }
}

/** The caller is authenticated but not allowed (for reasons other than a missing scope). */
export class ForbiddenError extends AppError {
  constructor(reason: string, message: string, detail: ErrorDetail = {}) {
    super(ErrorCode.FORBIDDEN, message, { ...detail, reason });
  }
}

/** The operation is not one of the trusted documents, and this caller may not send others (HTTP 400). */
export class PersistedQueryNotInListError extends AppError {
  constructor() {
    // `http` is read and removed by Apollo Server: the status of the whole response.
    super(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 'This operation is not in the list of trusted operations: send a persisted operation', { http: { status: 400 } });
  }
}

/** A request over one of the server's limits: HTTP 400 before anything executes, naming the limit and the measured value. */
export class LimitExceededError extends AppError {
  constructor(code: ErrorCode, message: string, limit: number, measured: number, detail: ErrorDetail = {}) {
    super(code, message, { limit, measured, ...detail, http: { status: 400 } });
  }
}

/** Seconds a client is told to wait (`Retry-After`) when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SEC = 5;

/**
 * The database cannot be reached, refused the connection, dropped it, or did not answer within the
 * configured bounds (pool, statement or lock timeout): HTTP 503 with `Retry-After`. Any transaction
 * under way was rolled back by the database, so nothing of the request was written. The driver's
 * error is kept as `cause` for the log, never sent.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    const headers = new Map([['retry-after', String(DATABASE_RETRY_AFTER_SEC)]]);
    // `http` is read and removed by Apollo Server (and formatExecutionErrors): the response's status and headers.
    super(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; nothing was changed, retry later', { retryable: true, http: { status: 503, headers } });
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * Live events stopped arriving (the database's change delivery was interrupted): changes committed
 * meanwhile will never reach the subscription, so it ends and the client subscribes again and
 * reads the current state.
 */
export class EventsInterruptedError extends AppError {
  constructor() {
    super(ErrorCode.SERVICE_UNAVAILABLE, 'Event delivery was interrupted and changes may have been missed: subscribe again and read the current state', { reason: 'events_interrupted' });
  }
}

/** A subscribe while committed changes are not being delivered: it would miss them. */
export class EventsUnavailableError extends AppError {
  constructor() {
    super(ErrorCode.SERVICE_UNAVAILABLE, 'Live events are unavailable right now: subscribe again shortly', { reason: 'events_unavailable' });
  }
}
