import { BadUserInputError } from '../errors.js';
import { isRowId } from './row-id.js';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page; larger `first` values are lowered to it. */
export const MAX_PAGE_SIZE = 100;

/** A Relay-style page of rows. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
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

const CURSOR_VERSION = 'v1';
const MAX_CURSOR_LENGTH = 64;

/** An opaque cursor for the row with this id. Clients must not parse it. */
export function encodeCursor(id: number): string {
  return Buffer.from(`${CURSOR_VERSION}:${id}`, 'utf8').toString('base64url');
}

/**
 * The row id inside a cursor, or null when `value` is null/undefined. Throws
 * BadUserInputError naming `field` (the argument, e.g. `after`) for anything that is not
 * a cursor this API issued.
 */
export function decodeCursor(field: string, value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const invalid = () => new BadUserInputError(field, `"${field}" is not a valid cursor`);
  if (value.length === 0 || value.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(value)) throw invalid();
  const match = /^v1:([1-9][0-9]{0,9})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  const id = match === null ? NaN : Number(match[1]);
  // Re-encoding rejects non-canonical base64 spellings of the same bytes.
  if (!isRowId(id) || encodeCursor(id) !== value) throw invalid();
  return id;
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

/** Validates `first` and `after` together. */
export function readPageArgs(args: PageArgs): Page {
  return { limit: clampFirst(args.first), afterId: decodeCursor('after', args.after) };
}

/**
 * Builds a connection from up to `limit + 1` rows fetched in page order: the extra row
 * only tells that another page exists, so no COUNT query is needed.
 */
export function toConnection<T extends { id: number }>(rows: readonly T[], limit: number): Connection<T> {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
