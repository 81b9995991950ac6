import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';

import { findProductsByIds } from '../../../src/domain/catalog/product-repository.js';
import { findOrderByIdempotencyKey } from '../../../src/domain/orders/order-repository.js';
import { openTestDatabase, postgresTarget, type TestDatabase } from '../../fixtures/databases.js';

const target = postgresTarget();
const describePg = target === undefined ? describe.skip : describe;

/** The statements prepared on the pool's one connection (pg_prepared_statements is per session). */
async function preparedOnConnection(database: TestDatabase): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements order by statement`.execute(database.db);
  return rows.map((row) => row.statement);
}

describePg('named prepared statements on PostgreSQL', () => {
  let named: TestDatabase;
  let unnamed: TestDatabase;
  beforeAll(async () => {
    named = await openTestDatabase(target!, { poolSize: 1 });
    unnamed = await openTestDatabase(target!, { poolSize: 1, preparedStatements: false });
  });
  afterAll(async () => {
    await named?.cleanup();
    await unnamed?.cleanup();
  });

  it('prepares the read paths once per connection and answers as unnamed statements do', async () => {
    for (let i = 0; i < 3; i++) {
      const [a, b] = [await findProductsByIds(named.db, [3, 1, 2]), await findProductsByIds(unnamed.db, [3, 1, 2])];
      expect(a).toEqual(b);
      expect(a.map((row) => row.id).sort()).toEqual([1, 2, 3]);
    }
    const prepared = await preparedOnConnection(named);
    expect(prepared.filter((statement) => statement.includes('from "products" where "id" in'))).toHaveLength(1);
    expect(await preparedOnConnection(unnamed)).toEqual([]);
  });

  it('keeps serving select * after another process adds a column (such statements are never named)', async () => {
    await expect(findOrderByIdempotencyKey(named.db, 1, 'none')).resolves.toBeUndefined();
    await sql`alter table orders add column note text`.execute(named.db);
    await expect(findOrderByIdempotencyKey(named.db, 1, 'none')).resolves.toBeUndefined();
    expect((await preparedOnConnection(named)).some((statement) => statement.includes('select *'))).toBe(false);
  });
});
