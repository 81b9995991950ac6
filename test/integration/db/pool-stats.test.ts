import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';

describe.each(databaseTargets())('pool use on $name (the db_pool_connections gauge)', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target, { poolSize: 3 });
  });
  afterAll(() => database.cleanup());

  it(target.name === 'postgres' ? 'counts connections in use and idle' : 'has no pool to report', async () => {
    if (target.name === 'sqlite') {
      expect(database.poolStats()).toBeUndefined();
      return;
    }
    await database.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      const during = database.poolStats()!;
      expect(during.total - during.idle).toBeGreaterThanOrEqual(1);
    });
    const after = database.poolStats()!;
    expect(after.total - after.idle).toBe(0);
    expect(after.waiting).toBe(0);
  });
});
