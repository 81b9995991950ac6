import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { preparedQuery } from '../../../src/db/prepared-query.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';

const byIds = preparedQuery((db, $) => db.selectFrom('products').select(['id', 'name']).where('id', 'in', $.list<number>(0)).orderBy('id'));
/** limit, then an optional minimum price. */
const cheapest = preparedQuery((db, $, args) => {
  const query = db.selectFrom('products').select(['id', 'price_minor']).where('currency', '=', 'USD').orderBy('price_minor').orderBy('id').limit($.value<number>(0));
  return args[1] != null ? query.where('price_minor', '>=', $.value<number>(1)) : query;
});

describe.each(databaseTargets())('preparedQuery on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  it('answers exactly as the same query built for each call', async () => {
    for (const ids of [[1], [3, 1, 2], [2, 999], [5, 4]]) {
      const expected = await database.db.selectFrom('products').select(['id', 'name']).where('id', 'in', ids).orderBy('id').execute();
      await expect(byIds.execute(database.db, [ids])).resolves.toEqual(expected);
    }
  });

  it('compiles each argument shape once: absent arguments and list lengths get their own SQL', async () => {
    database.statements.reset();
    await cheapest.execute(database.db, [2, null]);
    await cheapest.execute(database.db, [3, 1000]);
    await cheapest.execute(database.db, [1, 5000]);
    const [withoutMin, withMin, again] = database.statements.sql;
    expect(withoutMin).not.toMatch(/>=/);
    expect(withMin).toMatch(/>=/);
    expect(again).toBe(withMin);
    const rows = await cheapest.execute(database.db, [3, 1000]);
    const expected = await database.db.selectFrom('products').select(['id', 'price_minor']).where('currency', '=', 'USD').where('price_minor', '>=', 1000).orderBy('price_minor').orderBy('id').limit(3).execute();
    expect(rows).toEqual(expected);
    expect(rows).toHaveLength(3);
  });

  it('binds values as parameters, never into the SQL text', async () => {
    database.statements.reset();
    const evil = "x' or 1=1 --";
    const lookup = preparedQuery((db, $) => db.selectFrom('products').select('id').where('name', '=', $.value<string>(0)));
    await expect(lookup.execute(database.db, [evil])).resolves.toEqual([]);
    expect(database.statements.sql[0]).not.toContain(evil);
  });

  it('works inside a transaction', async () => {
    const rows = await database.db.transaction().execute((trx) => byIds.execute(trx, [[2]]));
    expect(rows.map((r) => r.id)).toEqual([2]);
  });
});
