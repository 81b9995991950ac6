import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type DpopKey, type TestAuthorizationServer, createDpopKey, signDpopProof, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:orders', 'write:orders', 'admin:orders'];
const PRODUCTS = 'query ListProducts { products(first: 2) { edges { node { id name } } } }';
const PRODUCTS_AND_ORDER = 'query Mixed { products(first: 1) { edges { node { id } } } order(id: "T3JkZXI6MQ") { id } }';
const CANCEL = 'mutation Cancel { cancelOrder(id: "T3JkZXI6MQ") { id } }';
const TOO_DEEP = '{ orders(first: 1) { edges { node { customer { orders(first: 1) { edges { node { id } } } } } } } }';

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * Metrics, spans and logs of a server trusting two real authorization servers (one issuing JWTs,
 * DPoP-bound or not, the other opaque tokens it introspects with a client secret), driven with
 * allowed, filtered, rejected, refused and over-limit requests.
 */
describe('metrics, traces and logs', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new node.NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const logLines: string[] = [];
  let jwtIssuer: TestAuthorizationServer;
  let opaqueIssuer: TestAuthorizationServer;
  let server: TestHttpServer;
  let dpopKey: DpopKey;
  /** Every credential sent: none may appear in a metric, a span or a log line. */
  const secrets: string[] = [];
  let metricsText = '';

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    const body = await response.text();
    if (process.env['DEBUG_TELEMETRY']) console.log(response.status, body);
    return response.status;
  };

  beforeAll(async () => {
    provider.register(); // the global tracer provider and an AsyncLocalStorage context manager
    jwtIssuer = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    opaqueIssuer = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, accessTokenFormat: 'opaque' });
    server = await startHttpServer(
      {
        OAUTH_ISSUERS: JSON.stringify([{ issuer: jwtIssuer.issuer }, { issuer: opaqueIssuer.issuer, introspection: true }]),
        OAUTH_AUDIENCE: AUDIENCE,
        OAUTH_CLIENT_ID: opaqueIssuer.confidentialClient.clientId,
        OAUTH_CLIENT_SECRET: opaqueIssuer.confidentialClient.clientSecret,
        // Every request reaches its verifier: the introspection cache is what answers a repeat.
        OAUTH_TOKEN_CACHE_MAX_TTL: '0',
        GRAPHQL_MAX_DEPTH: '6',
        METRICS_PORT: '0',
        // Turns on SQL spans; no SDK is started by createServer (the test registered its own provider).
        OTEL_TRACES_EXPORTER: 'console',
      },
      { logger: { level: 'info', stream: { write: (line: string) => void logLines.push(line) } } },
    );
    secrets.push(opaqueIssuer.confidentialClient.clientSecret);
    dpopKey = await createDpopKey('ES256');

    const reader = await jwtIssuer.clientCredentialsToken('read:orders');
    const profileReader = await jwtIssuer.clientCredentialsToken('read:profile');
    const tampered = `${reader.slice(0, -6)}${reader.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    const opaque = await opaqueIssuer.clientCredentialsToken('read:orders');
    const bound = await jwtIssuer.dpopClientCredentialsToken('read:orders', dpopKey);
    const proof = await signDpopProof(dpopKey, { htm: 'POST', htu: `${server.url}/graphql`, accessToken: bound });
    secrets.push(reader, profileReader, tampered, opaque, bound, proof);

    expect(await post(PRODUCTS, { authorization: `Bearer ${reader}`, 'x-request-id': 'telemetry-test-1' })).toBe(200);
    expect(await post(PRODUCTS_AND_ORDER, { authorization: `Bearer ${profileReader}` })).toBe(200); // order filtered
    expect(await post(CANCEL, { authorization: `Bearer ${reader}` })).toBe(403);
    expect(await post(PRODUCTS, { authorization: `Bearer ${tampered}` })).toBe(401);
    expect(await post(PRODUCTS, { authorization: `Bearer ${opaque}` })).toBe(200);
    expect(await post(PRODUCTS, { authorization: `Bearer ${opaque}` })).toBe(200); // from the introspection cache
    expect(await post(PRODUCTS, { authorization: `DPoP ${bound}`, dpop: proof })).toBe(200);
    expect(await post(PRODUCTS, { authorization: `DPoP ${bound}`, dpop: proof })).toBe(401); // replayed
    expect(await post(TOO_DEEP)).toBe(400);

    expect(server.metricsUrl).toBeDefined();
    const scrape = await fetch(`${server.metricsUrl}/metrics`);
    expect(scrape.status).toBe(200);
    metricsText = await scrape.text();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await jwtIssuer?.close();
    await opaqueIssuer?.close();
    await provider.shutdown();
    trace.disable();
  });

  describe('/metrics on its own listener', () => {
    it('is not served by the API listener', async () => {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    });

    it('counts requests by operation type and outcome, with their durations', () => {
      expect(sample(metricsText, 'graphql_requests_total', { operation_type: 'query', outcome: 'ok' })).toBe(4);
      expect(sample(metricsText, 'graphql_requests_total', { operation_type: 'query', outcome: 'partial' })).toBe(1);
      expect(sample(metricsText, 'graphql_requests_total', { operation_type: 'mutation', outcome: 'forbidden' })).toBe(1);
      expect(sample(metricsText, 'graphql_requests_total', { operation_type: 'unknown', outcome: 'unauthenticated' })).toBe(2);
      expect(sample(metricsText, 'graphql_requests_total', { operation_type: 'query', outcome: 'client_error' })).toBe(1);
      expect(sample(metricsText, 'graphql_request_duration_seconds_count', { operation_type: 'query', outcome: 'ok' })).toBe(4);
    });

    it('counts authorization decisions by outcome and the missing scopes', () => {
      expect(sample(metricsText, 'authz_decisions_total', { outcome: 'allowed' })).toBe(4);
      expect(sample(metricsText, 'authz_decisions_total', { outcome: 'filtered' })).toBe(1);
      expect(sample(metricsText, 'authz_decisions_total', { outcome: 'rejected' })).toBe(1);
      expect(sample(metricsText, 'authz_missing_scope_total', { scope: 'read:orders' })).toBe(1);
      expect(sample(metricsText, 'authz_missing_scope_total', { scope: 'write:orders' })).toBe(1);
    });

    it('counts token refusals by reason and issuer, and DPoP refusals by reason', () => {
      expect(sample(metricsText, 'oauth_token_refusals_total', { reason: 'bad_signature', issuer: jwtIssuer.issuer })).toBe(1);
      expect(sample(metricsText, 'oauth_dpop_refusals_total', { reason: 'replayed' })).toBe(1);
    });

    it('counts JWKS fetches, introspection requests and introspection cache hits', () => {
      expect(sample(metricsText, 'oauth_jwks_fetches_total', { issuer: jwtIssuer.issuer, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(sample(metricsText, 'oauth_introspection_requests_total', { issuer: opaqueIssuer.issuer, outcome: 'active' })).toBe(1);
      expect(sample(metricsText, 'oauth_introspection_cache_hits_total', { issuer: opaqueIssuer.issuer })).toBe(1);
    });

    it('counts limit refusals by limit', () => {
      expect(sample(metricsText, 'graphql_limit_refusals_total', { limit: 'maxDepth' })).toBe(1);
    });

    it('has the process metrics', () => {
      expect(sample(metricsText, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(sample(metricsText, 'nodejs_eventloop_lag_seconds')).toBeDefined();
    });
  });

  describe('traces', () => {
    const spans = () => exporter.getFinishedSpans();
    const childrenOf = (parent: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

    it('has one server span per request, named after the operation, with the GraphQL attributes and the request id', () => {
      const requests = spans().filter((s) => s.attributes['url.path'] === '/graphql');
      expect(requests).toHaveLength(9);
      const first = requests.find((s) => s.attributes['request.id'] === 'telemetry-test-1')!;
      expect(first.name).toBe('query ListProducts');
      expect(first.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'ListProducts', 'http.response.status_code': 200 });
      expect(requests.find((s) => s.name === 'mutation Cancel')?.attributes['graphql.outcome']).toBe('forbidden');
    });

    it('has child spans for token verification, authorization planning and SQL', () => {
      const first = spans().find((s) => s.attributes['request.id'] === 'telemetry-test-1')!;
      const names = childrenOf(first).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['token.verify', 'authorization.plan', 'db.query']));
      const sql = childrenOf(first).find((s) => s.name === 'db.query')!;
      expect(sql.attributes['db.system.name']).toBe('sqlite');
      expect(String(sql.attributes['db.query.text'])).toMatch(/^select /i);
    });

    it('has an introspection span under the token verification of an opaque token', () => {
      const introspection = spans().filter((s) => s.name === 'introspection');
      expect(introspection).toHaveLength(1);
      const parent = spans().find((s) => s.spanContext().spanId === introspection[0]!.parentSpanContext?.spanId);
      expect(parent?.name).toBe('token.verify');
    });
  });

  describe('no credential anywhere', () => {
    // The signature part alone would be as bad as the whole token.
    const fragments = () => secrets.flatMap((secret) => [secret, secret.slice(-24)]);

    it('none in the metrics', () => {
      for (const fragment of fragments()) expect(metricsText).not.toContain(fragment);
    });

    it('none in span names, attributes or events', () => {
      const text = JSON.stringify(exporter.getFinishedSpans().map((s: ReadableSpan) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
      expect(text.length).toBeGreaterThan(1000);
      for (const fragment of fragments()) expect(text).not.toContain(fragment);
    });

    it('none in the log lines', () => {
      const text = logLines.join('');
      expect(text).toContain('credentials refused');
      for (const fragment of fragments()) expect(text).not.toContain(fragment);
    });
  });
});
