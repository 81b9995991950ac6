import { describe, expect, it } from '@jest/globals';

import { StatementNames } from '../../../src/db/pg-named-statements.js';

describe('StatementNames', () => {
  it('gives each SQL text one name, the same every time, and never one name to two texts', () => {
    const names = new StatementNames();
    const a = names.nameOf('select "id" from "orders" where "id" in ($1)');
    const b = names.nameOf('select "id" from "orders" where "id" in ($1, $2)');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    expect(names.nameOf('select "id" from "orders" where "id" in ($1)')).toBe(a);
    expect(names.size).toBe(2);
  });

  it('names reads and writes with spelled-out columns, not select * or returning *, nor transaction control or DDL', () => {
    const names = new StatementNames();
    expect(names.nameOf('insert into "orders" ("a") values ($1) returning "id", "status"')).toBeDefined();
    expect(names.nameOf('update "orders" set "status" = $1 where "id" = $2')).toBeDefined();
    expect(names.nameOf('with x as (select 1) select "id" from x')).toBeDefined();
    for (const sql of [
      'select * from "orders" where "id" = $1',
      'select "orders".* from "orders"',
      'insert into "orders" ("a") values ($1) returning *',
      'update "orders" set "status" = $1 returning *',
      'begin',
      'commit',
      'alter table "orders" add column "x" integer',
    ]) {
      expect(names.nameOf(sql)).toBeUndefined();
    }
    expect(names.size).toBe(3);
  });

  it('names at most `limit` texts; later ones run unnamed', () => {
    const names = new StatementNames(2);
    expect(names.nameOf('select "a" from t')).toBeDefined();
    expect(names.nameOf('select "b" from t')).toBeDefined();
    expect(names.nameOf('select "c" from t')).toBeUndefined();
    expect(names.nameOf('select "a" from t')).toBeDefined();
    expect(names.size).toBe(2);
  });
});
