import type { Kysely } from 'kysely';

import type { ChangeFeed } from '../db/change-feed.js';
import type { DatabaseSchema } from '../db/database-schema.js';
import type { ProductRowCache } from './catalog/product-row-cache.js';
import type { CursorCodec } from './cursor-codec.js';
import { createLoaders, type Loaders } from './loaders.js';

/**
 * What a domain function needs for one request: the shared database handle, that
 * request's loaders, the server's cursor codec, and an optional clock (default: the current time).
 */
export interface RequestDeps {
  readonly db: Kysely<DatabaseSchema>;
  readonly loaders: Loaders;
  /** Pagination cursors, shared by every request of the server. */
  readonly cursors: CursorCodec;
  readonly now?: () => Date;
  /** The server's change feed: committed writes reach subscribers through it. Absent: no events. */
  readonly changes?: ChangeFeed;
}

export interface CreateRequestDepsOptions {
  /** The server's cursor codec (one per process, created at start-up). */
  cursors: CursorCodec;
  /** Clock for timestamps written during the request. Default: the current time. */
  now?: () => Date;
  /** The server's shared product rows (public catalog data), if it keeps them. */
  products?: ProductRowCache;
  /** The server's change feed, for the writes' events. */
  changes?: ChangeFeed;
}

/** Fresh deps for one request: new loaders sharing `db` (and the server's product rows and cursor codec), and the same clock everywhere. */
export function createRequestDeps(db: Kysely<DatabaseSchema>, options: CreateRequestDepsOptions): RequestDeps {
  const loaders = createLoaders(db, options);
  const { cursors } = options;
  return { db, loaders, cursors, now: options.now, changes: options.changes };
}

/** The request's current time as an ISO-8601 UTC string, the form timestamps are stored in. */
export function timestamp(deps: RequestDeps): string {
  return (deps.now ?? (() => new Date()))().toISOString();
}
