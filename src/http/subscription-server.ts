import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, getOperationAST, getVariableValues } from 'graphql';
import { CloseCode, type Context as WsContext, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { AuthUnavailableError } from '../auth/oauth-errors.js';
import type { Principal } from '../auth/principal.js';
import { TokenError } from '../auth/token-error.js';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { FieldGuard } from '../authz/field-guard.js';
import type { OperationAnalyzer } from '../authz/operation-analyzer.js';
import { validatedDocuments } from '../graphql/validated-documents.js';
import { decideOperation, rejectionErrors } from '../authz/operation-decision.js';
import { checkLimits } from '../authz/operation-limits.js';
import { PlanCache } from '../authz/plan-cache.js';
import type { AuthorizationMode, Config, PersistedDocumentsMode, SubscriptionLimits } from '../config.js';
import { AppError, ErrorCode, LimitExceededError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { internalErrorFormatter } from '../graphql/internal-errors.js';
import type { TrustedDocuments } from '../graphql/trusted-documents.js';
import type { ChangeHub } from '../graphql/subscriptions/change-hub.js';
import { subscribeWithFreshContexts } from '../graphql/subscriptions/subscription-execution.js';
import type { Logger } from '../logger.js';
import { checkTrustedDocument } from '../graphql/persisted-documents-plugin.js';
import { documentHash } from '../lib/persisted-query-manifest.js';
import { authenticate } from './authentication.js';
import type { AuthenticationSetup } from './authentication-setup.js';
import type { BearerRequest } from './credentials.js';

/** WebSocket close codes this server uses besides graphql-ws's own (4400, 4403, 4408, 4409, 4429, 4500). README, "Subscriptions". */
export const SubscriptionCloseCode = {
  /** The token is invalid, expired (closed at `exp`) or no longer active (introspection re-check). */
  Unauthorized: CloseCode.Unauthorized,
  /** The credentials were sent wrongly (twice, malformed, another scheme). */
  BadRequest: CloseCode.BadRequest,
  /** A slow consumer: its send queue (events or bytes) is full. */
  SlowConsumer: 4413,
  /** The authorization server could not be asked (fail closed); reconnect later. */
  TryAgainLater: 1013,
  /** The server is shutting down. */
  GoingAway: 1001,
} as const;

/** What the subscription server is built from. */
export interface SubscriptionServerOptions {
  readonly server: Server;
  /** The path the GraphQL endpoint lives at (`/graphql`). */
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly index: AuthorizationIndex;
  readonly analyzer: OperationAnalyzer;
  readonly authentication: Pick<AuthenticationSetup, 'verifier' | 'challenges' | 'dpop'>;
  readonly hub: ChangeHub;
  readonly config: Pick<Config, 'limits' | 'subscriptions' | 'http'> & { readonly authorization: { readonly mode: AuthorizationMode }; readonly auth: { readonly introspectionCacheTtlSec: number } };
  /** Trusted documents: in `enforce` mode a subscription not in the manifest is refused, as over HTTP. */
  readonly trustedDocuments?: { readonly documents: TrustedDocuments | undefined; readonly mode: PersistedDocumentsMode; readonly bypassScope: string | undefined };
  /** Builds a request context for one subscribe call or one event. */
  readonly context: (input: { principal: Principal; log: Logger; requestId: string; live: RequestContext['live'] }) => RequestContext;
  readonly log: Logger;
  /** Current time, ms since the epoch (tests). Default: Date.now. */
  readonly now?: () => number;
}

/** The running WebSocket endpoint. */
export interface SubscriptionServer {
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Active subscriptions (event streams) in this process. */
  readonly active: number;
  /** Closes every socket with 1001 and stops accepting upgrades. Idempotent. */
  dispose(): Promise<void>;
}

/** Per connection: who it is, with what token, and the timers that end it. */
interface Connection {
  readonly principal: Principal;
  readonly token: string | undefined;
  readonly principalKey: string | undefined;
  readonly counted: Set<string>;
  readonly timers: NodeJS.Timeout[];
  readonly socket: WebSocket;
  readonly log: Logger;
  closed: boolean;
}

type Extra = { socket: WebSocket; request: IncomingMessage };
type Ctx = WsContext<Record<string, unknown> | undefined, Extra>;

/** setTimeout's largest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * GraphQL over WebSocket (`graphql-transport-ws`) on the HTTP server's `path`: the token from
 * the upgrade request's `Authorization` header (Bearer or DPoP with a proof) or from
 * `connection_init`'s payload (`{ "Authorization": "Bearer …" }`), verified by the HTTP edge's
 * verifiers; each subscribe bounded by the operation limits and decided by the same
 * pre-execution plan as a query; each event executed with a fresh context through the field guards.
 * The connection is closed 4401 at the token's `exp`, and when a re-verification (every
 * `OAUTH_INTROSPECTION_CACHE_TTL` seconds) finds it no longer active.
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { config, log, hub, schema, index, analyzer } = options;
  const limits: SubscriptionLimits = config.subscriptions;
  const mode = config.authorization.mode;
  const now = options.now ?? Date.now;
  const plans = new PlanCache();
  // One parse and validation per distinct subscription text: a reconnecting crowd sends the same few.
  const documents = validatedDocuments({ schema, maxTokens: config.limits.maxTokens });
  const formatInternal = internalErrorFormatter(log);
  const connections = new WeakMap<object, Connection>();
  const byContext = new WeakMap<RequestContext, Connection>();
  const perPrincipal = new Map<string, number>();
  let open = 0;
  let disposed = false;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.http.bodyLimitBytes });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (request.url ?? '').split('?')[0];
    if (pathname !== options.path) return refuseUpgrade(socket, 404, 'Not Found');
    if (disposed) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (open >= limits.maxConnections) {
      log.warn({ event: 'ws.refused', reason: 'max_connections', limit: limits.maxConnections }, 'WebSocket refused: too many connections');
      return refuseUpgrade(socket, 503, 'Service Unavailable');
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      open += 1;
      ws.once('close', () => (open -= 1));
      wss.emit('connection', ws, request);
    });
  };
  options.server.on('upgrade', onUpgrade);

  const closeConnection = (connection: Connection, code: number, reason: string) => {
    if (connection.closed) return;
    connection.closed = true;
    for (const t of connection.timers) clearTimeout(t);
    connection.log.info({ event: 'ws.closed_by_server', code, reason }, 'WebSocket closed by the server');
    connection.socket.close(code, reason);
  };

  const armAt = (connection: Connection, atMs: number, fire: () => void) => {
    const wait = atMs - now();
    const timer = setTimeout(() => (atMs - now() > 0 ? armAt(connection, atMs, fire) : fire()), Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    timer.unref();
    connection.timers.push(timer);
  };

  // Re-verification: the verifier's own caches decide what is asked again (an introspection
  // result once its cache entry, at most OAUTH_INTROSPECTION_CACHE_TTL old, has expired).
  const scheduleRecheck = (connection: Connection) => {
    const ttl = config.auth.introspectionCacheTtlSec;
    if (connection.token === undefined || ttl <= 0) return;
    armAt(connection, now() + ttl * 1000 + 50, () => {
      options.authentication.verifier.verify(connection.token!).then(
        () => {
          if (!connection.closed) scheduleRecheck(connection);
        },
        (error: unknown) => {
          if (error instanceof TokenError) closeConnection(connection, SubscriptionCloseCode.Unauthorized, 'Token no longer active');
          else if (error instanceof AuthUnavailableError) closeConnection(connection, SubscriptionCloseCode.TryAgainLater, 'Cannot re-check the token now');
          else closeConnection(connection, CloseCode.InternalServerError, 'Internal server error');
        },
      );
    });
  };

  const expired = (principal: Principal) => principal.kind !== 'anonymous' && principal.expiresAt !== undefined && now() >= principal.expiresAt * 1000;

  const formatErrors = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const formatted = formatInternal(error.toJSON(), error);
      if (formatted.extensions?.['http'] === undefined) return formatted;
      const { http: _http, ...extensions } = formatted.extensions;
      return { ...formatted, extensions };
    });

  const release = (connection: Connection, id: string) => {
    if (!connection.counted.delete(id) || connection.principalKey === undefined) return;
    const left = (perPrincipal.get(connection.principalKey) ?? 1) - 1;
    if (left <= 0) perPrincipal.delete(connection.principalKey);
    else perPrincipal.set(connection.principalKey, left);
  };

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      async onConnect(ctx: Ctx) {
        const { socket, request } = ctx.extra;
        const requestLog = log.child({ ws: true });
        const fail = (code: number, reason: string) => {
          socket.close(code, reason);
          return false;
        };
        const fromPayload = authorizationParam(ctx.connectionParams);
        if (fromPayload === null) return fail(SubscriptionCloseCode.BadRequest, 'invalid_request: Authorization must be a string');
        if (fromPayload !== undefined && request.headers.authorization !== undefined) return fail(SubscriptionCloseCode.BadRequest, 'invalid_request: credentials given twice');
        const credentials: BearerRequest =
          fromPayload === undefined
            ? { headers: request.headers, rawHeaders: request.rawHeaders, method: 'GET', url: request.url ?? options.path }
            : { headers: { authorization: fromPayload }, rawHeaders: ['Authorization', fromPayload], method: 'GET', url: request.url ?? options.path };
        let principal: Principal;
        try {
          principal = await authenticate(credentials, options.authentication.verifier, options.authentication.challenges, requestLog, options.authentication.dpop);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          const status = (error.extensions['http'] as { status?: number } | undefined)?.status;
          if (status === 503) return fail(SubscriptionCloseCode.TryAgainLater, 'Authorization server unavailable');
          // The same client-safe message the HTTP answer carries (never the token).
          return fail(status === 400 ? SubscriptionCloseCode.BadRequest : SubscriptionCloseCode.Unauthorized, limitReason(error.message));
        }
        if (expired(principal)) return fail(SubscriptionCloseCode.Unauthorized, 'Token expired');
        const token = principal.kind === 'anonymous' ? undefined : tokenOf(credentials);
        const connection: Connection = {
          principal,
          token,
          principalKey: principal.kind === 'anonymous' ? undefined : `${principal.issuer}\u0000${principal.subject}`,
          counted: new Set(),
          timers: [],
          socket,
          log: requestLog.child(principal.kind === 'anonymous' ? {} : { subject: principal.subject, clientId: principal.clientId ?? null }),
          closed: false,
        };
        connections.set(ctx, connection);
        socket.once('close', () => {
          connection.closed = true;
          for (const t of connection.timers) clearTimeout(t);
        });
        if (principal.kind !== 'anonymous' && principal.expiresAt !== undefined) {
          armAt(connection, principal.expiresAt * 1000, () => closeConnection(connection, SubscriptionCloseCode.Unauthorized, 'Token expired'));
        }
        scheduleRecheck(connection);
        return true;
      },

      async onSubscribe(ctx: Ctx, id: string, payload: SubscribePayload) {
        const connection = connections.get(ctx);
        if (connection === undefined || connection.closed) return [new AppError(ErrorCode.UNAUTHENTICATED, 'The connection is closing')];
        if (Object.keys(ctx.subscriptions).length > limits.maxPerConnection) {
          return [new AppError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `At most ${limits.maxPerConnection} subscriptions per connection`, { limit: limits.maxPerConnection })];
        }
        if (connection.principalKey !== undefined && (perPrincipal.get(connection.principalKey) ?? 0) >= limits.maxPerPrincipal) {
          return [new AppError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `At most ${limits.maxPerPrincipal} subscriptions per subject`, { limit: limits.maxPerPrincipal })];
        }
        if (typeof payload.query !== 'string') return [new AppError(ErrorCode.BAD_REQUEST, 'query must be a string')];
        const trusted = options.trustedDocuments;
        if (trusted !== undefined && trusted.mode !== 'off' && trusted.documents !== undefined) {
          const refusal = checkTrustedDocument(
            { mode: trusted.mode, trusted: trusted.documents.byId, ...(trusted.bypassScope !== undefined ? { bypassScope: trusted.bypassScope } : {}) },
            documentHash(payload.query),
            payload.operationName ?? null,
            connection,
          );
          if (refusal) return [refusal];
        }
        const validated = documents(payload.query);
        if ('errors' in validated) return validated.errors;
        const { document } = validated;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new AppError(ErrorCode.BAD_REQUEST, 'Unable to identify the operation')];
        // Queries and mutations go over HTTP, where every plugin (trusted documents, caches, cost header) applies.
        if (operation.operation !== 'subscription') return [new AppError(ErrorCode.BAD_REQUEST, 'Only subscriptions are served over WebSocket; send queries and mutations over HTTP')];
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {}, { maxErrors: 1 });
        if (coerced.errors) return coerced.errors;
        let analysis;
        try {
          analysis = analyzer.analyse({ schema, document }, operation, coerced.coerced);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const violations = checkLimits(analysis.measures, config.limits.operation);
        if (violations.length > 0) {
          const first = violations[0]!;
          const event = { event: config.limits.mode === 'measure' ? 'limits.would_refuse' : 'limits.refused', operationName: payload.operationName ?? null, exceeded: violations.map((v) => v.name) };
          if (config.limits.mode === 'enforce') {
            connection.log.info(event, 'subscription refused: over a limit');
            return [new LimitExceededError(first.code, first.message, first.limit, first.measured)];
          }
          connection.log.warn(event, 'subscription over a limit (measure mode: it runs)');
        }
        const guard = new FieldGuard(connection.principal, mode, index);
        const decision = decideOperation({ analysis, principal: connection.principal, guard, mode, log: connection.log, cache: plans });
        if (decision.reject) return rejectionErrors(decision.plan);

        if (connection.principalKey !== undefined) perPrincipal.set(connection.principalKey, (perPrincipal.get(connection.principalKey) ?? 0) + 1);
        connection.counted.add(id);
        const contextValue = options.context({ principal: connection.principal, log: connection.log, requestId: `ws:${id}`, live: liveFor(connection) });
        byContext.set(contextValue, connection);
        const args: ExecutionArgs = { schema, document, operationName: payload.operationName ?? null, variableValues: payload.variables ?? {}, contextValue };
        return args;
      },

      async subscribe(args: ExecutionArgs) {
        const connection = byContext.get(args.contextValue as RequestContext)!;
        return subscribeWithFreshContexts(args, {
          eventContext: () => options.context({ principal: connection.principal, log: connection.log, requestId: 'ws:event', live: liveFor(connection) }),
          mayDeliver: () => {
            if (connection.closed) return false;
            // The timer closes at exp; this makes sure no event is executed after it, whatever the timer's delay.
            if (expired(connection.principal)) {
              closeConnection(connection, SubscriptionCloseCode.Unauthorized, 'Token expired');
              return false;
            }
            return true;
          },
        });
      },

      async onNext(ctx: Ctx, _id, _payload, _args, result) {
        const connection = connections.get(ctx);
        if (connection !== undefined && ctx.extra.socket.bufferedAmount > limits.maxBufferedBytes) {
          closeConnection(connection, SubscriptionCloseCode.SlowConsumer, 'Slow consumer: send queue full');
        }
        const { errors, ...rest } = result as { errors?: readonly GraphQLError[] };
        return errors === undefined ? rest : { ...rest, errors: formatErrors(errors) };
      },

      async onError(_ctx: Ctx, _id, _payload, errors) {
        return formatErrors(errors);
      },

      async onComplete(ctx: Ctx, id: string) {
        const connection = connections.get(ctx);
        if (connection !== undefined) release(connection, id);
      },

      async onClose(ctx: Ctx) {
        const connection = connections.get(ctx);
        if (connection === undefined) return;
        for (const id of [...connection.counted]) release(connection, id);
      },
    },
    wss,
    limits.keepAliveMs,
  );

  function liveFor(connection: Connection): NonNullable<RequestContext['live']> {
    return {
      hub,
      maxQueuedEvents: limits.maxQueuedEvents,
      onOverflow: () => closeConnection(connection, SubscriptionCloseCode.SlowConsumer, 'Slow consumer: too many queued events'),
    };
  }

  let disposing: Promise<void> | undefined;
  return {
    get connections() {
      return open;
    },
    get active() {
      return hub.size;
    },
    dispose() {
      disposing ??= (async () => {
        disposed = true;
        options.server.off('upgrade', onUpgrade);
        await server.dispose();
      })();
      return disposing;
    },
  };
}

/** The `Authorization` entry of `connection_init`'s payload (any letter case): undefined when absent, null when not a string. */
function authorizationParam(params: Record<string, unknown> | undefined): string | undefined | null {
  if (params === undefined) return undefined;
  const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  if (key === undefined) return undefined;
  const value = params[key];
  return typeof value === 'string' ? value : null;
}

function tokenOf(credentials: BearerRequest): string | undefined {
  const header = credentials.headers['authorization'];
  const value = Array.isArray(header) ? header[0] : header;
  return value?.replace(/^\s*\S+\s+/, '').trim();
}

/** A close reason is at most 123 bytes (RFC 6455 §5.5). */
function limitReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : reason.slice(0, 120);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${status === 503 ? 'Retry-After: 5\r\n' : ''}\r\n`);
}
