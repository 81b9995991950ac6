import type { Kysely } from 'kysely';
import type { Principal } from '../auth/principal.js';
import type { AuthorizationIndex } from '../authz/authorization-index.js';
import { type AuthorizationContext, FieldGuard } from '../authz/field-guard.js';
import type { AuthorizationMode } from '../config.js';
import type { DatabaseSchema } from '../db/database-schema.js';
import type { ProductRowCache } from '../domain/catalog/product-row-cache.js';
import type { CursorCodec } from '../domain/cursor-codec.js';
import { type RequestDeps, createRequestDeps } from '../domain/request-deps.js';
import type { Logger } from '../logger.js';
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
}

/** Builds the immutable context of one request: fresh DataLoaders, decisions for this principal. */
export function createRequestContext(input: {
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
  /** Default: {@link NO_OBSERVER}. */
  readonly observer?: RequestObserver;
}): RequestContext {
  return Object.freeze({
    requestId: input.requestId,
    principal: input.principal,
    guard: new FieldGuard(input.principal, input.mode, input.index),
    deps: createRequestDeps(input.db, { products: input.products, cursors: input.cursors }),
    log: input.log,
    observer: input.observer ?? NO_OBSERVER,
  });
}
