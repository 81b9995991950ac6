import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type DatabaseLocation, SQLITE_MEMORY, parseDatabaseUrl } from './lib/database-url.js';
import { ManifestError, type PersistedQueryManifest, parsePersistedQueryManifest } from './lib/persisted-query-manifest.js';
import { parseScopeMapSpec, type ScopeMapSpec } from './lib/scope-map-spec.js';

// The bottom layer: this module imports only node: and lib/. Constants that configuration
// validates against live here, and the modules that use them import them from here.

/** How denials are enforced (`AUTHZ_MODE`). */
export type AuthorizationMode =
  /** Partial data: denied fields are null with an error (default). */
  | 'filter'
  /** Any denial rejects the whole operation before execution. */
  | 'reject'
  /** Nothing is denied; what would have been denied is logged (for rolling out new rules). */
  | 'dry-run';

/** Default prefix of every key this server writes to Redis (`REDIS_KEY_PREFIX`). */
export const DEFAULT_REDIS_KEY_PREFIX = 'orders-rs:';

/** Shortest accepted cursor secret (`CURSOR_SECRET`), in bytes. */
export const MIN_CURSOR_SECRET_BYTES = 32;

/** Path of the development issuer under the public URL: its `iss` is `${publicUrl}${DEV_ISSUER_PATH}`. */
export const DEV_ISSUER_PATH = '/dev-issuer';

/** Which engine executes validated operations (`GRAPHQL_EXECUTOR`). */
export type ExecutorKind = 'graphql-js' | 'jit';

/** The default: the whole test suite runs under both, and jit is faster on nested lists. */
export const DEFAULT_EXECUTOR: ExecutorKind = 'jit';

/**
 * Start-up failure: an environment variable is missing or invalid. Names the variable (and, for a
 * JSON list such as `OAUTH_ISSUERS`, the entry's index and member), never echoes secrets.
 */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  /** Index of the offending entry, for variables holding a JSON array. */
  readonly index: number | undefined;
  /** Offending member of that entry. */
  readonly field: string | undefined;

  constructor(
    readonly variable: string,
    message: string,
    location: { index?: number; field?: string } = {},
  ) {
    const where = `${variable}${location.index !== undefined ? `[${location.index}]` : ''}${location.field !== undefined ? `.${location.field}` : ''}`;
    super(`${where}: ${message}`);
    this.name = 'ConfigError';
    this.index = location.index;
    this.field = location.field;
  }
}

/**
 * Where the data lives, and how long a request may wait for it before it is answered 503
 * (`DATABASE_UNAVAILABLE`): each bound is in milliseconds. `preparedStatements`: PostgreSQL
 * statements sent as named prepared statements.
 */
export type DatabaseSettings =
  | { readonly kind: 'sqlite'; readonly filename: string; readonly busyTimeoutMs: number }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number; readonly connectTimeoutMs: number; readonly statementTimeoutMs: number; readonly preparedStatements: boolean };

/** RFC 7662 introspection of one issuer's tokens. */
export interface IntrospectionSettings {
  /** The endpoint; discovered (`introspection_endpoint`) when undefined. */
  readonly url: string | undefined;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Introspect this issuer's JWTs too, not only opaque tokens (`OAUTH_INTROSPECT_ALL`). */
  readonly introspectAll: boolean;
}

/** One authorization server whose tokens are accepted. */
export interface TrustedIssuerSettings {
  /** Issuer identifier, exactly as in its tokens' `iss`. */
  readonly issuer: string;
  /** Accepted `aud` values: a token's must contain one. */
  readonly audience: readonly string[];
  /** Skips discovery of `jwks_uri` when set. */
  readonly jwksUri: string | undefined;
  readonly algorithms: readonly string[];
  readonly tokenTypes: readonly string[];
  /** Claims a JWT must carry; undefined: the verifier's default (`iss`, `exp`, `aud`). */
  readonly requiredClaims: readonly string[] | undefined;
  /** How this issuer spells the API's scopes. */
  readonly scopeMap: ScopeMapSpec | undefined;
  readonly introspection: IntrospectionSettings | undefined;
}

/** Where access tokens come from. */
export type IssuerSettings =
  /** The built-in development issuer (never in production). */
  | { readonly kind: 'development'; readonly keyFile: string; readonly issuer: string; readonly scopeMap: ScopeMapSpec | undefined }
  /** One real authorization server (`OAUTH_ISSUER`). */
  | ({ readonly kind: 'external' } & TrustedIssuerSettings)
  /** Several (`OAUTH_ISSUERS`); tokens are routed by `iss`. */
  | { readonly kind: 'multiple'; readonly issuers: readonly TrustedIssuerSettings[] };

/** Bounds on one GraphQL operation, each checked before anything executes (README "Limits"). */
export interface OperationLimits {
  /** Deepest selection outside introspection (a root field is depth 1). */
  readonly maxDepth: number;
  /** Aliased fields in the response, fragments expanded, `__typename` included. */
  readonly maxAliases: number;
  /** Response keys of the root selection. */
  readonly maxRootFields: number;
  /** Field selections with every fragment spread expanded where it is spread. */
  readonly maxSelections: number;
  /** Directives on one selection. */
  readonly maxDirectivesPerField: number;
  /** Estimated cost (`@cost`, `@listSize`: lists count at their requested or assumed size). */
  readonly maxCost: number;
  /** Deepest selection under `__schema` / `__type`, those fields included. */
  readonly maxIntrospectionDepth: number;
  /** Lists nested in one introspection path (`types { fields { args } }` is 3). */
  readonly maxIntrospectionListDepth: number;
  /** `__schema` / `__type` fields at the root. */
  readonly maxIntrospectionFields: number;
}

/** `enforce`: refuse operations over a limit (default); `measure`: log them and let them run. */
export type LimitsMode = 'enforce' | 'measure';

/** Defaults: every operation in the README, the tests and Sandbox's introspection passes; the known bombs are refused. */
export const DEFAULT_OPERATION_LIMITS: OperationLimits = Object.freeze({
  maxDepth: 12,
  maxAliases: 100,
  maxRootFields: 128,
  maxSelections: 5000,
  maxDirectivesPerField: 5,
  maxCost: 25_000,
  maxIntrospectionDepth: 18,
  maxIntrospectionListDepth: 3,
  maxIntrospectionFields: 3,
});

/** Default largest document, in lexical tokens (the parser's `maxTokens`). */
export const DEFAULT_MAX_TOKENS = 5000;

/** Caches shared between replicas. */
export type SharedCacheSettings = { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly url: string; readonly keyPrefix: string };

/** What happens to an operation that is not in the manifest (`PERSISTED_DOCUMENTS_MODE`). */
export type PersistedDocumentsMode = 'off' | 'audit' | 'enforce';

/** Trusted documents (a persisted query manifest) and automatic persisted queries. */
export interface PersistedDocumentsSettings {
  readonly mode: PersistedDocumentsMode;
  /** The validated manifest of `PERSISTED_DOCUMENTS_FILE`; undefined when unset. */
  readonly manifest: PersistedQueryManifest | undefined;
  /** Tokens with this scope may send any document in `enforce` mode (`PERSISTED_DOCUMENTS_BYPASS_SCOPE`). */
  readonly bypassScope: string | undefined;
  /** Bytes of query text kept for automatic persisted queries (`APQ_CACHE_BYTES`); 0 disables APQ. */
  readonly apqCacheBytes: number;
}

/** Apollo Server's default APQ cache size (its `InMemoryLRUCache`), 30 MiB. */
export const DEFAULT_APQ_CACHE_BYTES = 30 * 2 ** 20;

/** What one client may make the HTTP server hold or read. */
/** Fields of the access-log line, in the order they are written (the request id, `reqId`, is always there). */
export const ACCESS_LOG_FIELDS = ['method', 'path', 'status', 'durationMs', 'operation', 'subject', 'clientId'] as const;
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/** The access log: one line per request, at `level` (`off`: none), with `fields`. */
export interface AccessLogSettings {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'off';
  readonly fields: readonly AccessLogField[];
}

export interface HttpLimits {
  /** Largest request body, bytes; a larger one is answered 413. */
  readonly bodyLimitBytes: number;
  /** Largest request line and headers together, bytes (Node's `maxHeaderSize`); beyond it 431. */
  readonly maxHeaderBytes: number;
  /** Time to receive a request's headers, ms (Node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body, ms (Node's `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** Longest silence on a connection while a request is received or answered, ms (Fastify's `connectionTimeout`). */
  readonly idleTimeoutMs: number;
  /** Longest idle time of a keep-alive connection between requests, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most connections open at once (per process); connections over it are closed unanswered. */
  readonly maxConnections: number;
}

/** What WebSocket subscribers may make one server process hold. */
export interface SubscriptionLimits {
  /** Time a new socket has to send `connection_init`, ms; then closed 4408. */
  readonly connectionInitTimeoutMs: number;
  /** WebSocket connections open at once per process; more are refused at the upgrade (503). */
  readonly maxConnections: number;
  /** Active subscriptions on one connection; more are answered `TOO_MANY_SUBSCRIPTIONS`. */
  readonly maxPerConnection: number;
  /** Active subscriptions of one principal (issuer + subject) in this process, over all its connections. */
  readonly maxPerPrincipal: number;
  /** Events waiting to be sent on one subscription; one more closes the socket 4413 (slow consumer). */
  readonly maxQueuedEvents: number;
  /** Bytes the socket may hold unsent (`ws` bufferedAmount); above it the socket is closed 4413. */
  readonly maxBufferedBytes: number;
  /** Ping interval, ms; a client that does not answer within the same time is dropped. 0: no pings. */
  readonly keepAliveMs: number;
}

export interface Config {
  readonly environment: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Base URL clients use to reach this server (no trailing slash). */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly database: DatabaseSettings;
  readonly auth: {
    readonly issuer: IssuerSettings;
    /** This resource server's identifier; a token's `aud` must contain it (RFC 8707). */
    readonly audience: string;
    /** Accepted JWS algorithms (asymmetric only). */
    readonly algorithms: readonly string[];
    /** Accepted JWT `typ` header values (RFC 9068 §2.1). */
    readonly tokenTypes: readonly string[];
    /** Allowed clock skew for `exp`/`nbf`/`iat`, seconds. */
    readonly clockToleranceSec: number;
    /** Upper bound on caching an active introspection result, seconds (never past the token's `exp`). */
    readonly introspectionCacheTtlSec: number;
    /** Timeout of one introspection request, milliseconds. */
    readonly introspectionTimeoutMs: number;
    /** Minimum time between two key set fetches of one issuer, milliseconds. */
    readonly jwksCooldownMs: number;
    /** Age after which an issuer's cached keys are refreshed, milliseconds. */
    readonly jwksCacheMaxAgeMs: number;
    /** Tokens whose `iat` is longer ago than this are refused, seconds; undefined: no limit. */
    readonly maxTokenAgeSec: number | undefined;
    /** Upper bound on remembering a verified token, seconds, whatever its `exp`; 0 disables the cache. */
    readonly tokenCacheMaxTtlSec: number;
    /** In-memory DPoP replay cache (no Redis): unexpired proof ids held in total, and per proof key. */
    readonly dpopReplayCacheMaxEntries: number;
    readonly dpopReplayCacheMaxEntriesPerKey: number;
  };
  readonly sharedCache: SharedCacheSettings;
  readonly authorization: { readonly mode: AuthorizationMode };
  readonly graphql: {
    readonly executor: ExecutorKind;
    /** Cached responses to anonymous catalog queries; 0 disables the cache. */
    readonly catalogCacheEntries: number;
    /** Product rows shared between requests (served per catalog version); 0 disables them. */
    readonly productCacheEntries: number;
    /** Most operations in one batched HTTP request (a JSON array body); 0: batching off. */
    readonly batchMax: number;
    /** No schema details (such as "Did you mean …?" suggestions) in client errors: on in production. */
    readonly hideSchemaDetails: boolean;
  };
  readonly limits: {
    readonly mode: LimitsMode;
    /** Largest document in lexical tokens; a larger one is refused before it is parsed. */
    readonly maxTokens: number;
    readonly operation: OperationLimits;
  };
  /** Limits of the HTTP server (slow clients, sizes, connections). */
  readonly http: HttpLimits;
  /** Embed an all-scopes development token in the development landing page (default: only when listening on a loopback address). */
  readonly devLandingToken: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The one access-log line per request (README, "Access logs"). */
  readonly accessLog: AccessLogSettings;
  /** Secret the pagination cursors are encrypted under (`CURSOR_SECRET`); undefined: a random one per process (never in production). */
  readonly cursorSecret: Buffer | undefined;
  readonly persistedDocuments: PersistedDocumentsSettings;
  /** Server processes `npm run start:cluster` starts (`WORKERS`; default one per core). */
  readonly workers: number;
  /** GraphQL subscriptions over WebSocket (`graphql-transport-ws` on /graphql). */
  readonly subscriptions: SubscriptionLimits;
  /** Graceful shutdown on SIGTERM/SIGINT. */
  readonly shutdown: {
    /** Longest wait for in-flight requests after the listener stops accepting, in milliseconds (`SHUTDOWN_DRAIN_TIMEOUT_MS`). */
    readonly drainTimeoutMs: number;
  };
  /** Observability: Prometheus metrics and OpenTelemetry traces. */
  readonly telemetry: TelemetrySettings;
}

/** Where metrics are served and whether traces are exported. */
export interface TelemetrySettings {
  /** Port of the Prometheus `/metrics` listener (`METRICS_PORT`); undefined: no listener. */
  readonly metricsPort: number | undefined;
  /** Interface of that listener (`METRICS_HOST`, default 127.0.0.1: off the public network). */
  readonly metricsHost: string;
  /**
   * Traces are exported: OTEL_TRACES_EXPORTER names an exporter other than `none`, or an OTLP
   * endpoint is set, and OTEL_SDK_DISABLED is not `true`. The SDK reads the OTEL_* variables itself.
   */
  readonly tracing: boolean;
}

/** Default of `SHUTDOWN_DRAIN_TIMEOUT_MS`. */
export const DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/** Every environment variable the server reads, with its default and meaning (the README's table is generated from the same facts). */
export const ENVIRONMENT_VARIABLES = {
  NODE_ENV: 'development | production | test (default development). Production requires OAUTH_ISSUER, OAUTH_AUDIENCE and CURSOR_SECRET.',
  HOST: 'Interface to listen on (default 127.0.0.1; 0.0.0.0 in production).',
  PORT: 'TCP port (default 4000).',
  PUBLIC_URL: 'Base URL clients use (default http://HOST:PORT, IPv6 literals in brackets, a wildcard HOST as 127.0.0.1); the default audience and issuer URLs derive from it.',
  DATA_DIR: 'Folder for the embedded database and development keys (default ./data).',
  DEV_ISSUER_KEY_FILE: "Development issuer's private key file (default DATA_DIR/dev-issuer-key.json).",
  DATABASE_URL: 'SQLite file path or sqlite:/file: URL (default DATA_DIR/app.db; sqlite::memory: for an in-memory database), or a postgres:// URL.',
  DATABASE_POOL_SIZE: 'PostgreSQL connection pool size (default 10).',
  DATABASE_CONNECT_TIMEOUT_MS: 'PostgreSQL: longest wait for a pooled connection (a free one, or a new one opened), in milliseconds, before the request gets 503 DATABASE_UNAVAILABLE (default 5000).',
  DATABASE_STATEMENT_TIMEOUT_MS: 'PostgreSQL: longest run of one statement (statement_timeout, and the same plus one second on the client for an unresponsive server), in milliseconds (default 15000).',
  DATABASE_BUSY_TIMEOUT_MS: "SQLite: longest wait for another process's lock on the file, in milliseconds, before the request gets 503 DATABASE_UNAVAILABLE (default 5000).",
  OAUTH_JWKS_COOLDOWN_MS: 'Minimum time between two fetches of an issuer\'s key set, in milliseconds: tokens with unknown kids refetch at most this often, a failed fetch is retried after it (default 30000).',
  OAUTH_JWKS_CACHE_MAX_AGE_MS: 'Age after which cached signing keys are refreshed, in milliseconds (default 600000); kept, and used, while the refresh fails.',
  DATABASE_PREPARED_STATEMENTS: 'PostgreSQL: send statements as named prepared statements, true or false (default true; false behind a pooler sharing connections per transaction).',
  OAUTH_ISSUER: 'Issuer URL of the authorization server. Unset outside production: the built-in development issuer.',
  OAUTH_ISSUERS: 'JSON array of trusted issuers, instead of OAUTH_ISSUER: [{ "issuer", "audience"?, "jwksUri"?, "algorithms"?, "tokenTypes"?, "requiredClaims"?, "scopeMap"?, "introspection"?, "introspectionUrl"? }].',
  OAUTH_AUDIENCE: "This resource server's identifier; tokens' aud must contain it (default PUBLIC_URL/graphql outside production).",
  OAUTH_JWKS_URI: "JWKS URL; discovered from the issuer's RFC 8414 / OpenID metadata when unset.",
  OAUTH_ALGORITHMS: 'Comma-separated accepted JWS algorithms (default RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA).',
  OAUTH_TOKEN_TYPES: 'Comma-separated accepted JWT typ values (default at+jwt; Keycloak and Auth0 without RFC 9068 profile: at+jwt,JWT).',
  OAUTH_CLOCK_TOLERANCE: 'Allowed clock skew for exp/nbf/iat in seconds (default 30, at most 300).',
  OAUTH_INTROSPECTION_URL: 'RFC 7662 introspection endpoint for opaque tokens (discovered when unset and client credentials are given).',
  OAUTH_CLIENT_ID: 'Client id this server authenticates with at the introspection endpoint.',
  OAUTH_CLIENT_SECRET: 'Client secret for the introspection endpoint.',
  OAUTH_INTROSPECT_ALL: 'true: introspect JWTs of the introspecting issuer too, not only opaque tokens (default false).',
  OAUTH_INTROSPECTION_CACHE_TTL: 'Longest time an active introspection result is cached, in seconds (default 60, never past exp; 0 disables).',
  OAUTH_INTROSPECTION_TIMEOUT_MS: 'Timeout of one introspection request in milliseconds (default 5000).',
  OAUTH_MAX_TOKEN_AGE: 'Refuse tokens issued (iat) longer ago than this many seconds (default unset: no limit; tokens must then carry iat).',
  OAUTH_TOKEN_CACHE_MAX_TTL: 'Longest time a verified token is remembered, in seconds, whatever its exp (default 300; 0 disables).',
  DPOP_REPLAY_CACHE_MAX_ENTRIES: 'Without REDIS_URL: unexpired DPoP proof ids held in memory; when full, new proofs get 503 (default 100000).',
  DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY: 'Without REDIS_URL: unexpired DPoP proof ids held for one proof key (default a tenth of DPOP_REPLAY_CACHE_MAX_ENTRIES).',
  OAUTH_SCOPE_MAP: "JSON scope map for OAUTH_ISSUER: how the issuer spells the API's verb:resource scopes (see README).",
  REDIS_URL: 'redis:// or rediss:// URL; caches (introspection results) are shared between replicas there. Unset: in memory.',
  REDIS_KEY_PREFIX: 'Prefix of every Redis key this server writes (default orders-rs:).',
  GRAPHQL_EXECUTOR: 'jit (default: graphql-jit, operations compiled once) | graphql-js (the reference executor).',
  CATALOG_CACHE_ENTRIES: 'Responses to anonymous catalog queries kept in memory, invalidated by any product change (default 1000; 0 disables).',
  PRODUCT_CACHE_ENTRIES: 'Product rows kept in memory for every request, served only while the catalog version is unchanged (default 10000; 0 disables).',
  GRAPHQL_BATCH_MAX: 'Most operations in one batched request (a JSON array body); default 0: batching off.',
  HTTP_BODY_LIMIT_BYTES: 'Largest request body in bytes (default 1048576 = 1 MiB); larger ones get 413 PAYLOAD_TOO_LARGE.',
  HTTP_MAX_HEADER_BYTES: 'Largest request line and headers in bytes (default 32768); larger ones get 431.',
  HTTP_HEADERS_TIMEOUT_MS: 'Time allowed to receive a request\'s headers, in milliseconds (default 10000).',
  HTTP_REQUEST_TIMEOUT_MS: 'Time allowed to receive a whole request, headers and body, in milliseconds (default 30000; at least HTTP_HEADERS_TIMEOUT_MS).',
  HTTP_IDLE_TIMEOUT_MS: 'A connection on which nothing is sent or received for this long while a request is under way is closed, in milliseconds (default 60000).',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: 'An idle keep-alive connection is closed after this long, in milliseconds (default 72000).',
  HTTP_MAX_CONNECTIONS: 'Most connections open at once per process (default 4096); more are closed unanswered.',
  WS_CONNECTION_INIT_TIMEOUT_MS: 'Time a WebSocket has to send connection_init, in milliseconds (default 3000); then it is closed 4408.',
  WS_MAX_CONNECTIONS: 'Most WebSocket (subscription) connections open at once per process (default 1000); more upgrades are answered 503.',
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: 'Most active subscriptions on one WebSocket (default 20); more are answered TOO_MANY_SUBSCRIPTIONS.',
  WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: 'Most active subscriptions of one token subject per process, over all its sockets (default 50).',
  WS_MAX_QUEUED_EVENTS: 'Events waiting to be sent on one subscription (default 100); one more closes the socket 4413 (slow consumer).',
  WS_MAX_BUFFERED_BYTES: 'Bytes a WebSocket may hold unsent (default 1048576); above it the socket is closed 4413 (slow consumer).',
  WS_KEEPALIVE_MS: 'Ping interval of WebSockets, in milliseconds (default 12000; 0: none); an unanswered ping drops the socket.',
  DEV_LANDING_TOKEN: 'true | false: embed an all-scopes development token in the landing page (default true only when HOST is a loopback address).',
  AUTHZ_MODE: 'filter (default: denied fields null with errors) | reject (any denial rejects the operation) | dry-run (log only).',
  LOG_LEVEL: 'fatal | error | warn | info | debug | trace | silent (default info).',
  ACCESS_LOG_LEVEL: 'Level of the one access-log line per request: fatal | error | warn | info | debug | trace, or off (default info; written only when LOG_LEVEL lets that level through).',
  ACCESS_LOG_FIELDS: 'Comma-separated fields of the access-log line besides the request id: method, path, status, durationMs, operation, subject, clientId (default all of them).',
  GRAPHQL_LIMITS_MODE: 'enforce (default: operations over a limit are refused with 400) | measure (they run, and one warn line says what would have been refused).',
  GRAPHQL_MAX_TOKENS: 'Largest document in lexical tokens, refused before parsing (default 5000).',
  GRAPHQL_MAX_DEPTH: 'Deepest selection outside introspection; a root field is depth 1 (default 12).',
  GRAPHQL_MAX_ALIASES: 'Aliased fields in the response, fragments expanded, __typename included (default 100).',
  GRAPHQL_MAX_ROOT_FIELDS: 'Response keys of the root selection (default 128).',
  GRAPHQL_MAX_SELECTIONS: 'Field selections with every fragment spread expanded where it is spread, @skip/@include applied (default 5000).',
  GRAPHQL_MAX_DIRECTIVES: 'Directives on one selection (default 5).',
  GRAPHQL_MAX_COST: 'Estimated cost from @cost/@listSize: objects 1, scalars 0, lists times their size (default 25000).',
  GRAPHQL_INTROSPECTION_MAX_DEPTH: 'Deepest selection under __schema/__type (default 18; full introspection is 15).',
  GRAPHQL_INTROSPECTION_MAX_LIST_DEPTH: 'Lists nested in one introspection path (default 3, as in types { fields { args } }).',
  GRAPHQL_INTROSPECTION_MAX_FIELDS: '__schema/__type fields at the root, aliases counted (default 3).',
  CURSOR_SECRET: 'Base64 (or base64url) of at least 32 random bytes, e.g. `openssl rand -base64 32`: the key of the encrypted pagination cursors, the same on every replica. Required in production; unset elsewhere: random per process.',
  PERSISTED_DOCUMENTS_FILE: 'Path of a persisted query manifest (apollo-persisted-query-manifest, as @apollo/generate-persisted-query-manifest writes it): the trusted operations.',
  PERSISTED_DOCUMENTS_MODE: 'off (default) | audit (operations not in the manifest run and are logged) | enforce (they are refused with 400 PERSISTED_QUERY_NOT_IN_LIST).',
  PERSISTED_DOCUMENTS_BYPASS_SCOPE: 'A scope whose tokens may send any operation in enforce mode (e.g. for internal tools). Default: none.',
  WORKERS: 'Server processes started by npm run start:cluster (default one per core, at most 999).',
  SHUTDOWN_DRAIN_TIMEOUT_MS: 'On SIGTERM/SIGINT, longest wait for in-flight requests once the listener has stopped accepting, in milliseconds (default 10000); then the remaining connections are closed.',
  METRICS_PORT: 'Port of the Prometheus /metrics listener, separate from the API (unset: no metrics listener; 9464 is the usual one). With start:cluster the primary serves every worker aggregated.',
  METRICS_HOST: 'Interface of the metrics listener (default 127.0.0.1).',
  OTEL_TRACES_EXPORTER: 'OpenTelemetry standard variable: otlp (or console) exports traces; unset with no OTLP endpoint, or none: no tracing SDK is started. The other OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_*) are read by the SDK.',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'OpenTelemetry standard variable: OTLP/HTTP endpoint (e.g. http://collector:4318); setting it (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) turns tracing on.',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'OpenTelemetry standard variable: the traces endpoint itself.',
  OTEL_SDK_DISABLED: 'OpenTelemetry standard variable: true turns tracing off whatever else is set.',
  APQ_CACHE_BYTES: 'Bytes of query text kept for automatic persisted queries (default 31457280, Apollo\'s; 0 disables APQ).',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

function list(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, 'must list at least one value');
  return items;
}

function integer(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return n;
}

function url(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, options: { https?: boolean } = {}): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const problem = urlProblem(raw, options);
  if (problem !== undefined) throw new ConfigError(name, problem);
  return raw;
}

/** Why `raw` is not an acceptable http(s) URL, or undefined when it is. */
function urlProblem(raw: string, options: { https?: boolean; issuer?: boolean } = {}): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an http(s) URL';
  if (options.https && parsed.protocol !== 'https:' && !isLoopback(parsed.hostname)) return 'must use https (http is allowed only for loopback hosts)';
  if (parsed.username || parsed.password) return 'must not contain credentials';
  // RFC 8414 §2: an issuer has no query or fragment.
  if (options.issuer && (parsed.search !== '' || parsed.hash !== '')) return 'must not have a query or fragment';
  return undefined;
}

function bool(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, 'must be true or false');
  return raw === 'true';
}

function json(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES): unknown {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // The parser's message quotes the input: not repeated.
    throw new ConfigError(name, 'is not valid JSON');
  }
}

function scopeMap(value: unknown, fail: (message: string) => ConfigError): ScopeMapSpec | undefined {
  if (value === undefined) return undefined;
  try {
    return parseScopeMapSpec(value);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : 'is invalid');
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/** Whether an address to listen on (`HOST`) is reachable only from this machine: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return /^(0{0,4}:){2,7}0{0,3}1$/.test(bare) || /^::ffff:127\./.test(bare);
  return false;
}

function httpLimits(env: Env): HttpLimits {
  const headersTimeoutMs = integer(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  // Node refuses a headers deadline later than the whole request's.
  if (requestTimeoutMs < headersTimeoutMs) throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', `must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  return Object.freeze({
    bodyLimitBytes: integer(env, 'HTTP_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxHeaderBytes: integer(env, 'HTTP_MAX_HEADER_BYTES', 32 * 1024, 16 * 1024, 1024 * 1024),
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: integer(env, 'HTTP_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 4096, 1, 1_000_000),
  });
}

function oneOf<T extends string>(env: Env, name: keyof typeof ENVIRONMENT_VARIABLES, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function database(env: Env, dataDir: string): DatabaseSettings {
  const poolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200);
  let location: DatabaseLocation;
  try {
    location = parseDatabaseUrl(env['DATABASE_URL'], path.join(dataDir, 'app.db'));
  } catch (error) {
    // The parser never repeats the value (it may hold a password).
    throw new ConfigError('DATABASE_URL', error instanceof TypeError ? error.message : 'is invalid');
  }
  if (location.kind === 'postgres') {
    return {
      kind: 'postgres',
      url: location.url,
      poolSize,
      connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
      preparedStatements: bool(env, 'DATABASE_PREPARED_STATEMENTS', true),
    };
  }
  // Relative files are relative to the working directory, resolved once here.
  return {
    kind: 'sqlite',
    filename: location.filename === SQLITE_MEMORY ? SQLITE_MEMORY : path.resolve(location.filename),
    busyTimeoutMs: integer(env, 'DATABASE_BUSY_TIMEOUT_MS', 5000, 0, 600_000),
  };
}

/**
 * The URL clients reach a server listening on `host`:`port` at, when `PUBLIC_URL` is unset:
 * a wildcard address (`0.0.0.0`, `::`) is reached through 127.0.0.1, an IPv6 literal is
 * bracketed (RFC 3986 §3.2.2).
 */
export function listeningUrl(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === '0.0.0.0' || (isIPv6(bare) && /^[0:]+$/.test(bare))) return `http://127.0.0.1:${port}`;
  return `http://${isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}

/** Members an `OAUTH_ISSUERS` entry may have. */
const ISSUER_ENTRY_MEMBERS = new Set(['issuer', 'audience', 'jwksUri', 'algorithms', 'tokenTypes', 'requiredClaims', 'scopeMap', 'introspection', 'introspectionUrl']);

interface IssuerDefaults {
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly tokenTypes: readonly string[];
}

/** What an `OAUTH_ISSUERS` entry says, before introspection credentials are attached. */
type IssuerEntry = Omit<TrustedIssuerSettings, 'introspection'> & { readonly introspect: boolean; readonly introspectionUrl: string | undefined };

function issuerEntries(value: unknown, defaults: IssuerDefaults): IssuerEntry[] {
  const VARIABLE = 'OAUTH_ISSUERS';
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(VARIABLE, 'must be a non-empty JSON array of issuer objects');
  const seen = new Set<string>();
  return value.map((item: unknown, index) => {
    const fail = (field: string | undefined, message: string) => new ConfigError(VARIABLE, message, field === undefined ? { index } : { index, field });
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw fail(undefined, 'must be an object');
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!ISSUER_ENTRY_MEMBERS.has(key)) throw fail(key, `unknown member (expected ${[...ISSUER_ENTRY_MEMBERS].join(', ')})`);
    }
    const strings = (field: string, fallback: readonly string[] | undefined, allowed?: ReadonlySet<string>): readonly string[] | undefined => {
      const raw = entry[field];
      if (raw === undefined) return fallback;
      if (!Array.isArray(raw) || raw.length === 0 || raw.some((v) => typeof v !== 'string' || v.length === 0)) throw fail(field, 'must be a non-empty array of non-empty strings');
      const bad = allowed ? (raw as string[]).find((v) => !allowed.has(v)) : undefined;
      if (bad !== undefined) throw fail(field, `"${bad}" is not accepted (${[...allowed!].join(', ')})`);
      return Object.freeze([...(raw as string[])]);
    };
    const httpsUrl = (field: string, options: { issuer?: boolean } = {}): string | undefined => {
      const raw = entry[field];
      if (raw === undefined) return undefined;
      if (typeof raw !== 'string') throw fail(field, 'must be a string');
      const problem = urlProblem(raw, { https: true, ...options });
      if (problem !== undefined) throw fail(field, problem);
      return raw;
    };

    const issuer = httpsUrl('issuer', { issuer: true });
    if (issuer === undefined) throw fail('issuer', 'is required');
    if (seen.has(issuer)) throw fail('issuer', 'is listed twice');
    seen.add(issuer);

    let audience: readonly string[];
    const rawAudience = entry['audience'];
    if (rawAudience === undefined) audience = [defaults.audience];
    else if (typeof rawAudience === 'string' && rawAudience.length > 0) audience = [rawAudience];
    else if (Array.isArray(rawAudience)) audience = strings('audience', undefined)!;
    else throw fail('audience', 'must be a non-empty string or a non-empty array of them');

    const requiredClaims = entry['requiredClaims'];
    if (requiredClaims !== undefined && (!Array.isArray(requiredClaims) || requiredClaims.some((v) => typeof v !== 'string' || v.length === 0))) {
      throw fail('requiredClaims', 'must be an array of claim names');
    }
    const introspect = entry['introspection'];
    if (introspect !== undefined && typeof introspect !== 'boolean') throw fail('introspection', 'must be true or false');
    const introspectionUrl = httpsUrl('introspectionUrl');

    return {
      issuer,
      audience: Object.freeze([...audience]),
      jwksUri: httpsUrl('jwksUri'),
      algorithms: strings('algorithms', defaults.algorithms, ASYMMETRIC)!,
      tokenTypes: strings('tokenTypes', defaults.tokenTypes)!,
      requiredClaims: requiredClaims === undefined ? undefined : Object.freeze([...(requiredClaims as string[])]),
      scopeMap: scopeMap(entry['scopeMap'], (message) => fail('scopeMap', message)),
      introspect: introspect === true || introspectionUrl !== undefined,
      introspectionUrl,
    };
  });
}

function sharedCache(env: Env): SharedCacheSettings {
  const raw = env['REDIS_URL'];
  const keyPrefix = env['REDIS_KEY_PREFIX'] || DEFAULT_REDIS_KEY_PREFIX;
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(keyPrefix)) throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1 to 64 characters from A-Z a-z 0-9 : . _ -');
  if (raw === undefined || raw === '') return { kind: 'memory' };
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  // The URL may hold a password: never repeated in the message.
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  return { kind: 'redis', url: raw, keyPrefix };
}

/** At least 32 bytes, written in base64 or base64url; never echoed in the message. */
function cursorSecret(env: Env, production: boolean): Buffer | undefined {
  const raw = env['CURSOR_SECRET'];
  if (raw === undefined || raw === '') {
    // Random per process would break paging across replicas and restarts without a sound.
    if (production) throw new ConfigError('CURSOR_SECRET', 'is required when NODE_ENV=production (the same value on every replica)');
    return undefined;
  }
  const bytes = /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
  if (bytes.length < MIN_CURSOR_SECRET_BYTES) {
    throw new ConfigError('CURSOR_SECRET', `must be base64 or base64url of at least ${MIN_CURSOR_SECRET_BYTES} random bytes (openssl rand -base64 32)`);
  }
  return bytes;
}

function persistedDocuments(env: Env, projectRoot: string): PersistedDocumentsSettings {
  const mode = oneOf(env, 'PERSISTED_DOCUMENTS_MODE', ['off', 'audit', 'enforce'] as const, 'off');
  const file = env['PERSISTED_DOCUMENTS_FILE'];
  let manifest: PersistedQueryManifest | undefined;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(path.resolve(projectRoot, file), 'utf8');
    } catch (error) {
      throw new ConfigError('PERSISTED_DOCUMENTS_FILE', (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read');
    }
    try {
      manifest = parsePersistedQueryManifest(text);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      const location = error.index === undefined ? {} : { index: error.index, ...(error.field === undefined ? {} : { field: error.field }) };
      throw new ConfigError('PERSISTED_DOCUMENTS_FILE', error.message, location);
    }
  } else if (mode !== 'off') {
    throw new ConfigError('PERSISTED_DOCUMENTS_FILE', `is required when PERSISTED_DOCUMENTS_MODE is ${mode}`);
  }
  const bypassScope = env['PERSISTED_DOCUMENTS_BYPASS_SCOPE'] || undefined;
  // RFC 6749 §3.3: scope-token = 1*NQCHAR.
  if (bypassScope !== undefined && !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(bypassScope)) throw new ConfigError('PERSISTED_DOCUMENTS_BYPASS_SCOPE', 'must be one scope (no spaces or quotes)');
  return Object.freeze({ mode, manifest, bypassScope, apqCacheBytes: integer(env, 'APQ_CACHE_BYTES', DEFAULT_APQ_CACHE_BYTES, 0, 2 ** 31) });
}

/**
 * Reads and validates the whole configuration from the environment. The only place that
 * interprets environment variables; an invalid value throws {@link ConfigError} naming it.
 */
export function loadConfig(env: Env, projectRoot: string): Config {
  const environment = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = environment === 'production';
  const host = env['HOST'] || (production ? '0.0.0.0' : '127.0.0.1');
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL')?.replace(/\/+$/, '') ?? listeningUrl(host, port);
  const dataDir = path.resolve(projectRoot, env['DATA_DIR'] || 'data');

  const algorithms = list(env, 'OAUTH_ALGORITHMS', [...ASYMMETRIC]);
  for (const alg of algorithms) {
    if (!ASYMMETRIC.has(alg)) throw new ConfigError('OAUTH_ALGORITHMS', `"${alg}" is not an accepted asymmetric algorithm (${[...ASYMMETRIC].join(', ')})`);
  }
  const tokenTypes = list(env, 'OAUTH_TOKEN_TYPES', ['at+jwt']);

  const issuerUrl = url(env, 'OAUTH_ISSUER', { https: true });
  const issuerList = json(env, 'OAUTH_ISSUERS');
  if (issuerUrl && issuerList !== undefined) throw new ConfigError('OAUTH_ISSUERS', 'set either OAUTH_ISSUER or OAUTH_ISSUERS, not both');
  if (issuerUrl) {
    const problem = urlProblem(issuerUrl, { issuer: true });
    if (problem !== undefined) throw new ConfigError('OAUTH_ISSUER', problem);
  }
  const external = Boolean(issuerUrl) || issuerList !== undefined;
  if (!external && production) throw new ConfigError('OAUTH_ISSUER', 'is required when NODE_ENV=production (the development issuer is never used in production)');

  const audience = env['OAUTH_AUDIENCE'] || (production ? undefined : `${publicUrl}/graphql`);
  if (!audience) throw new ConfigError('OAUTH_AUDIENCE', 'is required when NODE_ENV=production');

  const clientId = env['OAUTH_CLIENT_ID'];
  const clientSecret = env['OAUTH_CLIENT_SECRET'];
  if (external && Boolean(clientId) !== Boolean(clientSecret)) {
    throw new ConfigError(clientId ? 'OAUTH_CLIENT_SECRET' : 'OAUTH_CLIENT_ID', 'OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET go together');
  }
  const introspectAll = bool(env, 'OAUTH_INTROSPECT_ALL', false);
  const singleScopeMap = scopeMap(json(env, 'OAUTH_SCOPE_MAP'), (message) => new ConfigError('OAUTH_SCOPE_MAP', message));

  let issuer: IssuerSettings;
  if (issuerList !== undefined) {
    for (const name of ['OAUTH_JWKS_URI', 'OAUTH_SCOPE_MAP', 'OAUTH_INTROSPECTION_URL'] as const) {
      if (env[name]) throw new ConfigError(name, 'applies to OAUTH_ISSUER only; with OAUTH_ISSUERS set jwksUri, scopeMap or introspectionUrl in the entry');
    }
    const entries = issuerEntries(issuerList, { audience, algorithms, tokenTypes });
    const marked = entries.flatMap((entry, index) => (entry.introspect ? [index] : []));
    if (marked.length > 1) throw new ConfigError('OAUTH_ISSUERS', 'only one issuer may use introspection (opaque tokens do not say where they come from)', { index: marked[1]!, field: 'introspection' });
    if (marked.length === 1 && !clientId) throw new ConfigError('OAUTH_CLIENT_ID', 'is required when an OAUTH_ISSUERS entry uses introspection');
    // With credentials, the marked entry introspects; a lone entry needs no mark.
    const introspecting = marked[0] ?? (clientId && entries.length === 1 ? 0 : undefined);
    if (clientId && introspecting === undefined) throw new ConfigError('OAUTH_ISSUERS', 'mark the issuer to introspect with "introspection": true (OAUTH_CLIENT_ID is set)');
    if (introspectAll && introspecting === undefined) throw new ConfigError('OAUTH_INTROSPECT_ALL', 'requires OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET');
    issuer = {
      kind: 'multiple',
      issuers: Object.freeze(
        entries.map(({ introspect: _mark, introspectionUrl, ...entry }, index) =>
          Object.freeze({
            ...entry,
            introspection: index === introspecting && clientId && clientSecret ? Object.freeze({ url: introspectionUrl, clientId, clientSecret, introspectAll }) : undefined,
          }),
        ),
      ),
    };
  } else if (issuerUrl) {
    const introspectionUrl = url(env, 'OAUTH_INTROSPECTION_URL', { https: true });
    if (introspectionUrl && !clientId) throw new ConfigError('OAUTH_CLIENT_ID', 'is required with OAUTH_INTROSPECTION_URL');
    if (introspectAll && !clientId) throw new ConfigError('OAUTH_INTROSPECT_ALL', 'requires OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET');
    issuer = Object.freeze({
      kind: 'external',
      // Compared with `iss` character for character (RFC 8414 §3.3): kept exactly as given, trailing slash included.
      issuer: issuerUrl,
      audience: Object.freeze([audience]),
      jwksUri: url(env, 'OAUTH_JWKS_URI', { https: true }),
      algorithms,
      tokenTypes,
      requiredClaims: undefined,
      scopeMap: singleScopeMap,
      introspection: clientId && clientSecret ? Object.freeze({ url: introspectionUrl, clientId, clientSecret, introspectAll }) : undefined,
    });
  } else {
    // `npm run token` reads the same configuration (and what the running server recorded in DATA_DIR).
    const keyFile = env['DEV_ISSUER_KEY_FILE'] ? path.resolve(projectRoot, env['DEV_ISSUER_KEY_FILE']) : path.join(dataDir, 'dev-issuer-key.json');
    issuer = { kind: 'development', keyFile, issuer: `${publicUrl}${DEV_ISSUER_PATH}`, scopeMap: singleScopeMap };
  }

  return Object.freeze({
    environment,
    host,
    port,
    publicUrl,
    dataDir,
    database: database(env, dataDir),
    auth: Object.freeze({
      issuer,
      audience,
      algorithms,
      tokenTypes,
      clockToleranceSec: integer(env, 'OAUTH_CLOCK_TOLERANCE', 30, 0, 300),
      introspectionCacheTtlSec: integer(env, 'OAUTH_INTROSPECTION_CACHE_TTL', 60, 0, 3600),
      introspectionTimeoutMs: integer(env, 'OAUTH_INTROSPECTION_TIMEOUT_MS', 5000, 100, 60_000),
      jwksCooldownMs: integer(env, 'OAUTH_JWKS_COOLDOWN_MS', 30_000, 100, 3_600_000),
      jwksCacheMaxAgeMs: integer(env, 'OAUTH_JWKS_CACHE_MAX_AGE_MS', 600_000, 1000, 86_400_000),
      maxTokenAgeSec: env['OAUTH_MAX_TOKEN_AGE'] ? integer(env, 'OAUTH_MAX_TOKEN_AGE', 0, 1, 31_536_000) : undefined,
      tokenCacheMaxTtlSec: integer(env, 'OAUTH_TOKEN_CACHE_MAX_TTL', 300, 0, 86_400),
      ...dpopReplayCacheBounds(env),
    }),
    sharedCache: sharedCache(env),
    authorization: { mode: oneOf(env, 'AUTHZ_MODE', ['filter', 'reject', 'dry-run'] as const, 'filter') },
    graphql: {
      executor: oneOf(env, 'GRAPHQL_EXECUTOR', ['jit', 'graphql-js'] as const, DEFAULT_EXECUTOR),
      catalogCacheEntries: integer(env, 'CATALOG_CACHE_ENTRIES', 1000, 0, 100_000),
      productCacheEntries: integer(env, 'PRODUCT_CACHE_ENTRIES', 10_000, 0, 1_000_000),
      batchMax: integer(env, 'GRAPHQL_BATCH_MAX', 0, 0, 1000),
      hideSchemaDetails: production,
    },
    limits: Object.freeze({
      mode: oneOf(env, 'GRAPHQL_LIMITS_MODE', ['enforce', 'measure'] as const, 'enforce'),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', DEFAULT_MAX_TOKENS, 10, 1_000_000),
      operation: Object.freeze({
        maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', DEFAULT_OPERATION_LIMITS.maxDepth, 1, 1000),
        maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', DEFAULT_OPERATION_LIMITS.maxAliases, 0, 100_000),
        maxRootFields: integer(env, 'GRAPHQL_MAX_ROOT_FIELDS', DEFAULT_OPERATION_LIMITS.maxRootFields, 1, 10_000),
        maxSelections: integer(env, 'GRAPHQL_MAX_SELECTIONS', DEFAULT_OPERATION_LIMITS.maxSelections, 1, 100_000_000),
        maxDirectivesPerField: integer(env, 'GRAPHQL_MAX_DIRECTIVES', DEFAULT_OPERATION_LIMITS.maxDirectivesPerField, 0, 1000),
        maxCost: integer(env, 'GRAPHQL_MAX_COST', DEFAULT_OPERATION_LIMITS.maxCost, 1, 1_000_000_000),
        maxIntrospectionDepth: integer(env, 'GRAPHQL_INTROSPECTION_MAX_DEPTH', DEFAULT_OPERATION_LIMITS.maxIntrospectionDepth, 1, 1000),
        maxIntrospectionListDepth: integer(env, 'GRAPHQL_INTROSPECTION_MAX_LIST_DEPTH', DEFAULT_OPERATION_LIMITS.maxIntrospectionListDepth, 1, 100),
        maxIntrospectionFields: integer(env, 'GRAPHQL_INTROSPECTION_MAX_FIELDS', DEFAULT_OPERATION_LIMITS.maxIntrospectionFields, 0, 1000),
      }),
    }),
    http: httpLimits(env),
    devLandingToken: bool(env, 'DEV_LANDING_TOKEN', isLoopbackHost(host)),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    accessLog: accessLog(env),
    cursorSecret: cursorSecret(env, production),
    persistedDocuments: persistedDocuments(env, projectRoot),
    workers: integer(env, 'WORKERS', availableParallelism(), 1, 999),
    subscriptions: Object.freeze({
      connectionInitTimeoutMs: integer(env, 'WS_CONNECTION_INIT_TIMEOUT_MS', 3000, 100, 600_000),
      maxConnections: integer(env, 'WS_MAX_CONNECTIONS', 1000, 0, 1_000_000),
      maxPerConnection: integer(env, 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10_000),
      maxPerPrincipal: integer(env, 'WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL', 50, 1, 1_000_000),
      maxQueuedEvents: integer(env, 'WS_MAX_QUEUED_EVENTS', 100, 1, 100_000),
      maxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      keepAliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 0, 3_600_000),
    }),
    shutdown: Object.freeze({ drainTimeoutMs: integer(env, 'SHUTDOWN_DRAIN_TIMEOUT_MS', DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MS, 0, 3_600_000) }),
    telemetry: telemetry(env),
  });
}

function telemetry(env: Env): TelemetrySettings {
  const metricsPort = env['METRICS_PORT'] ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
  const exporter = (env['OTEL_TRACES_EXPORTER'] ?? '').trim().toLowerCase();
  const endpoint = Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const disabled = bool(env, 'OTEL_SDK_DISABLED', false);
  const tracing = !disabled && exporter !== 'none' && (exporter !== '' || endpoint);
  return Object.freeze({ metricsPort, metricsHost: env['METRICS_HOST'] || '127.0.0.1', tracing });
}

function accessLog(env: Env): AccessLogSettings {
  const level = oneOf(env, 'ACCESS_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'off'] as const, 'info');
  const fields = list(env, 'ACCESS_LOG_FIELDS', ACCESS_LOG_FIELDS);
  const unknown = fields.filter((f) => !(ACCESS_LOG_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0) throw new ConfigError('ACCESS_LOG_FIELDS', `unknown field ${unknown.join(', ')} (known: ${ACCESS_LOG_FIELDS.join(', ')})`);
  return Object.freeze({ level, fields: Object.freeze([...new Set(fields)] as AccessLogField[]) });
}

function dpopReplayCacheBounds(env: Env): { dpopReplayCacheMaxEntries: number; dpopReplayCacheMaxEntriesPerKey: number } {
  const total = integer(env, 'DPOP_REPLAY_CACHE_MAX_ENTRIES', 100_000, 1, 10_000_000);
  const perKey = integer(env, 'DPOP_REPLAY_CACHE_MAX_ENTRIES_PER_KEY', Math.ceil(total / 10), 1, total);
  return { dpopReplayCacheMaxEntries: total, dpopReplayCacheMaxEntriesPerKey: perKey };
}

/** Every trusted external issuer, whether configured with `OAUTH_ISSUER` or `OAUTH_ISSUERS` (none for the development issuer). */
export function trustedIssuers(settings: IssuerSettings): readonly TrustedIssuerSettings[] {
  if (settings.kind === 'multiple') return settings.issuers;
  if (settings.kind === 'external') return [settings];
  return [];
}
