import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import SQLite from 'better-sqlite3';

import { cachedStatements } from '../../../src/db/sqlite-statements.js';

describe('cachedStatements (SQLite connection for Kysely)', () => {
  let connection: SQLite.Database;
  let db: ReturnType<typeof cachedStatements>;
  beforeEach(() => {
    connection = new SQLite(':memory:');
    connection.exec("create table t (id integer primary key, name text, price integer, note text); insert into t (name, price, note) values ('a', 1, null), ('b', 2, 'x')");
    db = cachedStatements(connection, 3);
  });
  afterEach(() => db.close());

  it('returns the same rows as better-sqlite3 object rows, keys in column order', () => {
    const sql = 'select * from t order by id';
    const rows = db.prepare(sql).all([]);
    expect(rows).toEqual(connection.prepare(sql).all());
    expect(Object.keys(rows[0] as object)).toEqual(['id', 'name', 'price', 'note']);
    expect(rows[0]).toStrictEqual({ id: 1, name: 'a', price: 1, note: null });
  });

  it('binds parameters and returns an empty list when nothing matches', () => {
    const statement = db.prepare('select name from t where id in (?, ?)');
    expect(statement.all([2, 9])).toEqual([{ name: 'b' }]);
    expect(statement.all([7, 9])).toEqual([]);
  });

  it('keeps the last value of a repeated column name, like better-sqlite3', () => {
    const sql = 'select 1 as a, 2 as a';
    expect(db.prepare(sql).all([])).toEqual(connection.prepare(sql).all());
    expect(db.prepare(sql).all([])).toEqual([{ a: 2 }]);
  });

  it('never turns a column named __proto__ into a prototype', () => {
    const [row] = db.prepare("select 'x' as __proto__, 1 as b").all([]) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x');
    expect(row!['b']).toBe(1);
  });

  it('follows a schema change: a cached select * sees an added column', () => {
    const statement = db.prepare('select * from t where id = ?');
    expect(statement.all([1])).toEqual([{ id: 1, name: 'a', price: 1, note: null }]);
    connection.exec("alter table t add column stock integer not null default 7");
    expect(statement.all([1])).toEqual([{ id: 1, name: 'a', price: 1, note: null, stock: 7 }]);
    expect(db.prepare('select * from t where id = ?').all([2])).toEqual([{ id: 2, name: 'b', price: 2, note: 'x', stock: 7 }]);
  });

  it('forgets cached statements after DDL sent through it', () => {
    const before = db.prepare('select * from t');
    db.prepare('alter table t add column extra text').run([]);
    expect(db.prepare('select * from t')).not.toBe(before);
  });

  it('reuses a prepared statement per SQL text, within its bound', () => {
    const first = db.prepare('select 1 as one');
    expect(db.prepare('select 1 as one')).toBe(first);
    db.prepare('select 2 as two');
    db.prepare('select 3 as three');
    db.prepare('select 4 as four'); // evicts the oldest
    expect(db.prepare('select 1 as one')).not.toBe(first);
  });

  it('runs writes and reports changes and the inserted row id', () => {
    const result = db.prepare('insert into t (name, price) values (?, ?)').run(['c', 3]);
    expect(Number(result.changes)).toBe(1);
    expect(Number(result.lastInsertRowid)).toBe(3);
    expect(db.prepare('insert into t (name, price) values (?, ?) returning id, name').all(['d', 4])).toEqual([{ id: 4, name: 'd' }]);
  });

  it('iterates rows as objects', () => {
    expect([...db.prepare('select id, name from t order by id').iterate([])]).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });
});
