/**
 * What the server counts, as one small interface passed down to the layers that see each event
 * (the authentication edge, the verifiers, the authorization and limits plugins), so that no
 * layer imports a metrics library or an upper layer. {@link NO_METRICS} is the default everywhere;
 * the server passes the Prometheus implementation (`lib/prometheus-metrics.ts`).
 *
 * Label values must come from bounded sets: operation types, outcomes, the error catalog's
 * reasons, the configured issuers, the schema's scopes. The Prometheus implementation maps
 * anything else to `other`, so a client can never grow the number of series.
 */
export interface Metrics {
  /** One GraphQL HTTP request answered, with its duration in seconds. */
  request(operationType: OperationTypeLabel, outcome: RequestOutcome, seconds: number): void;
  /** The authorization plan of one operation; `missingScopes`: scopes whose absence denied a field. */
  authorization(outcome: AuthorizationOutcome, missingScopes: readonly string[]): void;
  /** A token refused (401/400) with its catalog reason, by issuer (undefined: not known). */
  tokenRefused(reason: string, issuer: string | undefined): void;
  /** A DPoP proof or binding refused, with its catalog reason. */
  dpopRefused(reason: string): void;
  /** One fetch of an issuer's JWKS (or its discovery document). */
  jwksFetch(issuer: string, outcome: 'ok' | 'failed'): void;
  /** One introspection request, or a result served from the cache. */
  introspection(issuer: string, outcome: 'active' | 'inactive' | 'failed' | 'cache_hit'): void;
  /** An operation refused by an operation limit (`maxDepth`, `maxCost`, …; `mode` measure counts what would be). */
  limitRefused(limit: string): void;
  /** Subscriptions ended because committed changes stopped being delivered (the LISTEN connection was lost). */
  subscriptionsInterrupted(count: number): void;
}

/** `query`, `mutation`, `subscription`, or `unknown` (not parsed, refused before, a batch). */
export type OperationTypeLabel = 'query' | 'mutation' | 'subscription' | 'unknown';

/**
 * How a request ended: `ok` (no error), `partial` (data and errors, e.g. filtered fields),
 * `client_error` (4xx or a GraphQL error without data), `unauthenticated` (401), `forbidden`
 * (403), `unavailable` (503), `server_error` (other 5xx).
 */
export type RequestOutcome = 'ok' | 'partial' | 'client_error' | 'unauthenticated' | 'forbidden' | 'unavailable' | 'server_error';

/** Every field allowed, some fields filtered (nulls with errors), or the operation rejected. */
export type AuthorizationOutcome = 'allowed' | 'filtered' | 'rejected';

/** Connections of a database pool at one instant (read at each scrape, not counted). */
export interface PoolStats {
  /** Open connections, idle or in use. */
  readonly total: number;
  readonly idle: number;
  /** Queries waiting for a connection. */
  readonly waiting: number;
}

/** Counts nothing. */
export const NO_METRICS: Metrics = Object.freeze({
  request: () => undefined,
  authorization: () => undefined,
  tokenRefused: () => undefined,
  dpopRefused: () => undefined,
  jwksFetch: () => undefined,
  introspection: () => undefined,
  limitRefused: () => undefined,
  subscriptionsInterrupted: () => undefined,
});

/** The outcome label of an HTTP status and whether the body had data and errors. */
export function requestOutcome(status: number, hasErrors: boolean, hasData: boolean): RequestOutcome {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  if (!hasErrors) return 'ok';
  return hasData ? 'partial' : 'client_error';
}
