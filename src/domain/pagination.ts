import { BadUserInputError } from '../errors.js';
import type { CursorCodec } from './cursor-codec.js';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page; larger `first` values are lowered to it. */
export const MAX_PAGE_SIZE = 100;

/** A Relay-style page of rows. */
export interface Connection<T> {
  edges: { readonly cursor: string; readonly node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * An edge whose cursor is encrypted only when read: a cursor costs about 6 µs (AES-GCM), and most
 * queries select nodes, not cursors. A class, so the getter lives on the prototype (an accessor
 * in an object literal would make V8 keep every edge past the next young-generation GC).
 */
class LazyCursorEdge<T extends { id: number }> {
  readonly #codec: CursorCodec;
  #cursor: string | undefined;

  constructor(
    readonly node: T,
    codec: CursorCodec,
  ) {
    this.#codec = codec;
  }

  get cursor(): string {
    return (this.#cursor ??= this.#codec.encode(this.node.id));
  }
}

/**
 * Page info whose end cursor is the last edge's, encrypted only when read (most queries, Q2's
 * included, select no page info): the same value as that edge's cursor, encrypted once for both.
 */
class LazyPageInfo<T extends { id: number }> {
  readonly #last: LazyCursorEdge<T>;

  constructor(
    readonly hasNextPage: boolean,
    last: LazyCursorEdge<T>,
  ) {
    this.#last = last;
  }

  get endCursor(): string {
    return this.#last.cursor;
  }
}

/** Pagination arguments as they arrive from GraphQL. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Validated pagination: how many rows to return and the id to continue after. */
export interface Page {
  readonly limit: number;
  readonly afterId: number | null;
}

/**
 * The page size for `first`: null/undefined gives DEFAULT_PAGE_SIZE, values above
 * MAX_PAGE_SIZE are lowered to it, negative or non-integer values throw BadUserInputError
 * naming `first`. Zero is allowed (an empty page that still reports hasNextPage).
 */
export function clampFirst(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) {
    throw new BadUserInputError('first', '"first" must be a non-negative integer');
  }
  return Math.min(first, MAX_PAGE_SIZE);
}

/** Validates `first` and `after` together; `after` must be a cursor `cursors` issued. */
export function readPageArgs(cursors: CursorCodec, args: PageArgs): Page {
  return { limit: clampFirst(args.first), afterId: cursors.decode('after', args.after) };
}

/**
 * Builds a connection from up to `limit + 1` rows fetched in page order: the extra row
 * only tells that another page exists, so no COUNT query is needed. Cursors come from `cursors`.
 */
export function toConnection<T extends { id: number }>(cursors: CursorCodec, rows: readonly T[], limit: number): Connection<T> {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => new LazyCursorEdge(node, cursors));
  const hasNextPage = rows.length > limit;
  const last = edges.at(-1);
  return { edges, pageInfo: last === undefined ? { hasNextPage, endCursor: null } : new LazyPageInfo(hasNextPage, last) };
}
