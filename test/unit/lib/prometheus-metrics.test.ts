import { describe, expect, it } from '@jest/globals';
import { createPrometheusMetrics } from '../../../src/lib/prometheus-metrics.js';
import { requestOutcome } from '../../../src/lib/metrics.js';

const OPTIONS = { issuers: ['https://as.example'], scopes: ['read:orders'], reasons: ['expired'], limits: ['maxDepth'], processMetrics: false };

describe('Prometheus metrics', () => {
  it('counts a value outside the configured sets as "other", so clients cannot add series', async () => {
    const metrics = createPrometheusMetrics(OPTIONS);
    metrics.tokenRefused('expired', 'https://as.example');
    metrics.tokenRefused('made-up-reason', 'https://attacker.example/' + 'x'.repeat(50));
    metrics.tokenRefused('expired', undefined);
    metrics.authorization('filtered', ['read:orders', 'not:a-scope']);
    metrics.jwksFetch('https://elsewhere.example', 'failed');
    metrics.limitRefused('maxNonsense');
    const text = await metrics.registry.metrics();
    expect(text).toContain('oauth_token_refusals_total{reason="expired",issuer="https://as.example"} 1');
    expect(text).toContain('oauth_token_refusals_total{reason="other",issuer="other"} 1');
    expect(text).toContain('oauth_token_refusals_total{reason="expired",issuer="unknown"} 1');
    expect(text).toContain('authz_missing_scope_total{scope="read:orders"} 1');
    expect(text).toContain('authz_missing_scope_total{scope="other"} 1');
    expect(text).toContain('oauth_jwks_fetches_total{issuer="other",outcome="failed"} 1');
    expect(text).toContain('graphql_limit_refusals_total{limit="other"} 1');
    expect(text).not.toContain('attacker');
  });

  it('reports the pool gauge at scrape time, and none without a pool', async () => {
    let stats = { total: 5, idle: 2, waiting: 1 };
    const withPool = createPrometheusMetrics({ ...OPTIONS, pool: () => stats });
    expect(await withPool.registry.metrics()).toMatch(/db_pool_connections\{state="in_use"\} 3\n/);
    stats = { total: 1, idle: 1, waiting: 0 };
    const text = await withPool.registry.metrics();
    expect(text).toMatch(/db_pool_connections\{state="in_use"\} 0\n/);
    expect(text).toMatch(/db_pool_connections\{state="waiting"\} 0\n/);
    expect(await createPrometheusMetrics({ ...OPTIONS, pool: () => undefined }).registry.metrics()).not.toMatch(/db_pool_connections\{/);
  });

  it('keeps each server\'s metrics apart (one registry each)', async () => {
    const a = createPrometheusMetrics(OPTIONS);
    const b = createPrometheusMetrics(OPTIONS);
    a.limitRefused('maxDepth');
    expect(await b.registry.metrics()).not.toContain('graphql_limit_refusals_total{limit="maxDepth"}');
  });
});

describe('requestOutcome', () => {
  it('names the outcome from the status, then from errors and data', () => {
    expect(requestOutcome(200, false, true)).toBe('ok');
    expect(requestOutcome(200, true, true)).toBe('partial');
    expect(requestOutcome(200, true, false)).toBe('client_error');
    expect(requestOutcome(400, true, false)).toBe('client_error');
    expect(requestOutcome(401, true, false)).toBe('unauthenticated');
    expect(requestOutcome(403, true, false)).toBe('forbidden');
    expect(requestOutcome(503, true, false)).toBe('unavailable');
    expect(requestOutcome(500, true, false)).toBe('server_error');
  });
});
