import { describe, expect, it } from '@jest/globals';

import { createCursorCodec } from '../../../src/domain/cursor-codec.js';
import { clampFirst, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, readPageArgs, toConnection } from '../../../src/domain/pagination.js';
import { thrown } from '../../fixtures/errors.js';

const cursors = createCursorCodec();

describe('clampFirst', () => {
  it('defaults to 20', () => {
    expect(clampFirst(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(clampFirst(null)).toBe(20);
  });

  it('keeps values from 0 to 100', () => {
    expect(clampFirst(0)).toBe(0);
    expect(clampFirst(1)).toBe(1);
    expect(clampFirst(100)).toBe(100);
  });

  it('lowers values above 100 to 100', () => {
    expect(clampFirst(101)).toBe(MAX_PAGE_SIZE);
    expect(clampFirst(1_000_000)).toBe(100);
  });

  it.each([-1, 1.5, Number.NaN])('rejects %p with BAD_USER_INPUT naming first', (first) => {
    expect(thrown(() => clampFirst(first))).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
  });
});

describe('readPageArgs', () => {
  it('validates first and after together', () => {
    expect(readPageArgs(cursors, { first: 5, after: cursors.encode(9) })).toEqual({ limit: 5, afterId: 9 });
    expect(readPageArgs(cursors, {})).toEqual({ limit: 20, afterId: null });
  });

  it('refuses a cursor of another codec, naming after', () => {
    expect(thrown(() => readPageArgs(cursors, { after: createCursorCodec().encode(9) }))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  });
});

describe('toConnection', () => {
  const rows = [{ id: 3 }, { id: 4 }, { id: 5 }];

  it('reports a next page when the extra row was fetched', () => {
    const connection = toConnection(cursors, rows, 2);
    expect(connection.edges.map((e) => e.node.id)).toEqual([3, 4]);
    expect(connection.edges.map((e) => cursors.decode('after', e.cursor))).toEqual([3, 4]);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    expect(connection.pageInfo.endCursor).toBe(connection.edges[1]?.cursor);
    expect(cursors.decode('after', connection.pageInfo.endCursor)).toBe(4);
  });

  it('reports the last page when fewer rows came back', () => {
    const connection = toConnection(cursors, rows, 3);
    expect(connection.edges).toHaveLength(3);
    expect(connection.pageInfo.hasNextPage).toBe(false);
    expect(cursors.decode('after', connection.pageInfo.endCursor)).toBe(5);
  });

  it('has a null end cursor for an empty page', () => {
    expect(toConnection(cursors, [], 10).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    expect(toConnection(cursors, rows, 0).pageInfo).toEqual({ hasNextPage: true, endCursor: null });
  });

  it('encrypts an edge cursor only when it is read, once; the end cursor is the last edge\'s, encrypted once for both', () => {
    let encoded = 0;
    const counting = { ...cursors, encode: (id: number) => (encoded++, cursors.encode(id)) };
    const connection = toConnection(counting, [{ id: 3 }, { id: 4 }, { id: 5 }, { id: 6 }], 3);
    expect(encoded).toBe(0);
    const first = connection.edges[0]!.cursor;
    expect(connection.edges[0]!.cursor).toBe(first);
    expect(encoded).toBe(1);
    expect(cursors.decode('after', first)).toBe(3);
    const end = connection.pageInfo.endCursor;
    expect(connection.edges[2]!.cursor).toBe(end);
    expect(encoded).toBe(2);
    expect(cursors.decode('after', end)).toBe(5);
  });
});
