import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuthorizationOutcome, Metrics, OperationTypeLabel, PoolStats, RequestOutcome } from './metrics.js';

/** Options of {@link createPrometheusMetrics}: the bounded sets label values are taken from. */
export interface PrometheusMetricsOptions {
  /** Configured issuers; any other issuer is counted as `other`. */
  readonly issuers: readonly string[];
  /** The schema's scope catalog; any other scope is `other`. */
  readonly scopes: readonly string[];
  /** The error catalog's refusal reasons; any other is `other`. */
  readonly reasons: readonly string[];
  /** The operation limits' names (`maxDepth`, …); any other is `other`. */
  readonly limits: readonly string[];
  /** Database pool use, read at each scrape; undefined (or a function returning undefined): no pool gauge. */
  readonly pool?: () => PoolStats | undefined;
  /** Node.js process metrics (CPU, memory, event loop lag, GC, handles), prom-client's defaults. Default: true. */
  readonly processMetrics?: boolean;
}

/** {@link Metrics} recorded in a prom-client registry of its own (one per server). */
export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
}

/** Request durations' histogram buckets, in seconds: 1 ms to 10 s. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every metric the README's operations section lists, in a new registry. Label values outside
 * the given sets become `other`, so the number of series is bounded whatever clients send.
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  const issuers = bounded(options.issuers);
  const scopes = bounded(options.scopes);
  const reasons = bounded(options.reasons);
  const limits = bounded(options.limits);

  const requests = new Counter({ name: 'graphql_requests_total', help: 'GraphQL HTTP requests answered, by operation type and outcome.', labelNames: ['operation_type', 'outcome'], registers });
  const durations = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time from receiving a GraphQL HTTP request to answering it, by operation type and outcome.',
    labelNames: ['operation_type', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const decisions = new Counter({ name: 'authz_decisions_total', help: 'Authorization plans by outcome: allowed, filtered (denied fields null), rejected.', labelNames: ['outcome'], registers });
  const missingScopes = new Counter({ name: 'authz_missing_scope_total', help: 'Operations with a field denied for want of this scope.', labelNames: ['scope'], registers });
  const tokenRefusals = new Counter({ name: 'oauth_token_refusals_total', help: 'Access tokens refused, by reason (error catalog) and issuer.', labelNames: ['reason', 'issuer'], registers });
  const dpopRefusals = new Counter({ name: 'oauth_dpop_refusals_total', help: 'DPoP proofs or bindings refused, by reason (error catalog).', labelNames: ['reason'], registers });
  const jwksFetches = new Counter({ name: 'oauth_jwks_fetches_total', help: 'Requests for an issuer\'s JSON Web Key Set, by outcome (ok, failed).', labelNames: ['issuer', 'outcome'], registers });
  const introspections = new Counter({
    name: 'oauth_introspection_requests_total',
    help: 'RFC 7662 introspection requests, by outcome (active, inactive, failed).',
    labelNames: ['issuer', 'outcome'],
    registers,
  });
  const introspectionHits = new Counter({ name: 'oauth_introspection_cache_hits_total', help: 'Introspection results served from the (shared) cache.', labelNames: ['issuer'], registers });
  const limitRefusals = new Counter({ name: 'graphql_limit_refusals_total', help: 'Operations refused by an operation limit, by the limit.', labelNames: ['limit'], registers });
  const interrupted = new Counter({ name: 'subscriptions_interrupted_total', help: 'Subscriptions ended because committed changes stopped being delivered (the LISTEN connection was lost).', registers });
  if (options.pool !== undefined) {
    const pool = options.pool;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (in_use, idle), and queries waiting for one.',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = pool();
        if (stats === undefined) return;
        this.set({ state: 'in_use' }, stats.total - stats.idle);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    request(operationType: OperationTypeLabel, outcome: RequestOutcome, seconds: number) {
      requests.inc({ operation_type: operationType, outcome });
      durations.observe({ operation_type: operationType, outcome }, seconds);
    },
    authorization(outcome: AuthorizationOutcome, missing: readonly string[]) {
      decisions.inc({ outcome });
      for (const scope of missing) missingScopes.inc({ scope: scopes(scope) });
    },
    tokenRefused(reason, issuer) {
      tokenRefusals.inc({ reason: reasons(reason), issuer: issuer === undefined ? 'unknown' : issuers(issuer) });
    },
    dpopRefused(reason) {
      dpopRefusals.inc({ reason: reasons(reason) });
    },
    jwksFetch(issuer, outcome) {
      jwksFetches.inc({ issuer: issuers(issuer), outcome });
    },
    introspection(issuer, outcome) {
      if (outcome === 'cache_hit') introspectionHits.inc({ issuer: issuers(issuer) });
      else introspections.inc({ issuer: issuers(issuer), outcome });
    },
    subscriptionsInterrupted(count) {
      if (count > 0) interrupted.inc(count);
    },
    limitRefused(limit) {
      limitRefusals.inc({ limit: limits(limit) });
    },
  };
}

function bounded(values: readonly string[]): (value: string) => string {
  const known = new Set(values);
  return (value) => (known.has(value) ? value : 'other');
}
