import { describe, expect, it } from '@jest/globals';

import {
  clampFirst,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  MAX_PAGE_SIZE,
  readPageArgs,
  toConnection,
} from '../../../src/domain/pagination.js';
import { thrown } from '../../fixtures/errors.js';


describe('cursors', () => {
  it('round-trips an id through an opaque base64url cursor', () => {
    const cursor = encodeCursor(42);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('42');
    expect(decodeCursor('after', cursor)).toBe(42);
  });

  it('encodes a versioned payload', () => {
    expect(Buffer.from(encodeCursor(7), 'base64url').toString()).toBe('v1:7');
  });

  it('treats a missing cursor as the start', () => {
    expect(decodeCursor('after', null)).toBeNull();
    expect(decodeCursor('after', undefined)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['garbage', 'hello'],
    ['other version', Buffer.from('v2:5').toString('base64url')],
    ['zero id', Buffer.from('v1:0').toString('base64url')],
    ['negative id', Buffer.from('v1:-5').toString('base64url')],
    ['leading zero', Buffer.from('v1:05').toString('base64url')],
    ['id beyond the column range', Buffer.from('v1:9999999999').toString('base64url')],
    ['trailing data', Buffer.from('v1:5:x').toString('base64url')],
    ['overlong', 'A'.repeat(100)],
  ])('rejects a %s cursor with BAD_USER_INPUT naming the argument', (_, value) => {
    expect(thrown(() => decodeCursor('after', value))).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  });
});

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
    expect(readPageArgs({ first: 5, after: encodeCursor(9) })).toEqual({ limit: 5, afterId: 9 });
    expect(readPageArgs({})).toEqual({ limit: 20, afterId: null });
  });
});

describe('toConnection', () => {
  const rows = [{ id: 3 }, { id: 4 }, { id: 5 }];

  it('reports a next page when the extra row was fetched', () => {
    const connection = toConnection(rows, 2);
    expect(connection.edges.map((e) => e.node.id)).toEqual([3, 4]);
    expect(connection.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor(4) });
  });

  it('reports the last page when fewer rows came back', () => {
    const connection = toConnection(rows, 3);
    expect(connection.edges).toHaveLength(3);
    expect(connection.pageInfo).toEqual({ hasNextPage: false, endCursor: encodeCursor(5) });
  });

  it('has a null end cursor for an empty page', () => {
    expect(toConnection([], 10).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    expect(toConnection(rows, 0).pageInfo).toEqual({ hasNextPage: true, endCursor: null });
  });
});
