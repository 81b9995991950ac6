import type { OperationTypeLabel } from './metrics.js';

/**
 * What the GraphQL layer tells the HTTP layer about the request it is answering, for the request
 * metric and the request span: which operation it was and whether its result had errors. One per
 * HTTP request, held by the request context (like its logger); {@link NO_OBSERVER} elsewhere.
 */
export interface RequestObserver {
  /** The operation was resolved (called once per operation; a batch calls it for each). */
  operation(type: OperationTypeLabel, name: string | undefined): void;
  /** The operation's result: whether it had errors and data. */
  result(hasErrors: boolean, hasData: boolean): void;
}

/** Observes nothing. */
export const NO_OBSERVER: RequestObserver = Object.freeze({ operation: () => undefined, result: () => undefined });
