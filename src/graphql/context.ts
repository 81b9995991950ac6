import type { Kysely } from 'kysely';
import type { Principal } from '../auth/principal.js';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { type AuthorizationContext, FieldGuard } from '../authz/field-guard.js';
import type { AuthorizationMode } from '../config.js';
import type { DenialSink } from '../authz/operation-decision.js';
import type { ChangeFeed } from '../db/change-feed.js';
import type { DatabaseSchema } from '../db/database-schema.js';
import type { ProductRowCache } from '../domain/catalog/product-row-cache.js';
import type { CursorCodec } from '../domain/cursor-codec.js';
import { type RequestDeps, createRequestDeps } from '../domain/request-deps.js';
import type { Logger } from '../logger.js';
import type { ChangeHub } from './subscriptions/change-hub.js';
import { NO_OBSERVER, type RequestObserver } from '../lib/request-observer.js';

/**
 * Everything a resolver may use, built once per request and never mutated: who is calling,
 * their authorization decisions, per-request DataLoaders over the shared database, and a
 * logger bound to the request id.
 */
export interface RequestContext extends AuthorizationContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly guard: FieldGuard;
  readonly deps: RequestDeps;
  readonly log: Logger;
  /** Reports the operation and its outcome to the request's metric and span. */
  readonly observer: RequestObserver;
  /** On a WebSocket connection: where subscriptions get their events. Absent over HTTP. */
  readonly live?: LiveEvents;
  /** Over HTTP with the access log on: takes the operation's denials for the request's one access line. */
  readonly denials?: DenialSink | undefined;
}

/** What a subscription's event stream needs from its connection. */
export interface LiveEvents {
  readonly hub: ChangeHub;
  /** Events queued per subscription at most (`WS_MAX_QUEUED_EVENTS`). */
  readonly maxQueuedEvents: number;
  /** Called when a subscription's queue overflows: the connection is closed as a slow consumer. */
  readonly onOverflow: () => void;
}

/** What {@link createRequestContext} is built from. */
export interface RequestContextInput {
  readonly requestId: string;
  readonly principal: Principal;
  readonly db: Kysely<DatabaseSchema>;
  readonly index: AuthorizationIndex;
  readonly mode: AuthorizationMode;
  readonly log: Logger;
  /** The server's shared product rows, if it keeps them. */
  readonly products?: ProductRowCache;
  /** The server's pagination cursor codec. */
  readonly cursors: CursorCodec;
  /** The server's change feed: writes publish their events through it. */
  readonly changes?: ChangeFeed;
  /** A WebSocket connection's event source. */
  readonly live?: LiveEvents;
  /** Default: {@link NO_OBSERVER}. */
  readonly observer?: RequestObserver;
  /** Where the request's denials go instead of lines of their own (its access line). */
  readonly denials?: DenialSink | undefined;
}

/** What a server keeps for every request's context, made once at start-up. */
export type ServerContextParts = Pick<RequestContextInput, 'db' | 'index' | 'mode' | 'products' | 'cursors' | 'changes'>;

/** What one request brings: who calls, its logger, and over WebSocket its event source. */
export type ContextRequest = Pick<RequestContextInput, 'requestId' | 'principal' | 'log' | 'live' | 'observer' | 'denials'>;

/**
 * A server's context function: each request's context from that request and the server's parts.
 * Keys are named, never spread first: in V8 every key an object literal adds after a spread is a
 * slow map transition, about 0.5 µs each (docs/BENCHMARKS.md, "No object spread before named keys").
 */
export function requestContextBuilder(parts: ServerContextParts): (request: ContextRequest) => RequestContext {
  const { db, index, mode, products, cursors, changes } = parts;
  return (request) =>
    createRequestContext({ requestId: request.requestId, principal: request.principal, log: request.log, live: request.live, observer: request.observer, denials: request.denials, db, index, mode, products, cursors, changes });
}

/** Builds the immutable context of one request: fresh DataLoaders, decisions for this principal. */
export function createRequestContext(input: RequestContextInput): RequestContext {
  // One literal, every key always present (`live` undefined over HTTP): see requestContextBuilder.
  return Object.freeze({
    requestId: input.requestId,
    principal: input.principal,
    guard: new FieldGuard(input.principal, input.mode, input.index),
    deps: createRequestDeps(input.db, { products: input.products, cursors: input.cursors, changes: input.changes }),
    log: input.log,
    observer: input.observer ?? NO_OBSERVER,
    live: input.live,
    denials: input.denials,
  });
}
