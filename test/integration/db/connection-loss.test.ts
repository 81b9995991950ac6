import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { openTestDatabase, postgresTarget, type TestDatabase } from '../../fixtures/databases.js';

const target = postgresTarget();

/**
 * PostgreSQL ends a session under the pool (an administrator's pg_terminate_backend, a failover, a
 * restart) while a request holds it between two statements of a transaction. Found by the soak
 * (`npm run soak`): the checked-out client emitted 'error' with no listener and the process died.
 * Only this test's own session is terminated.
 */
(target ? describe : describe.skip)('a pooled PostgreSQL session terminated while checked out', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  beforeAll(async () => {
    database = await openTestDatabase(target!, { poolSize: 2 });
    admin = new pg.Client({ connectionString: target!.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await database?.cleanup();
  });

  it('fails that transaction, does not crash the process, and the pool recovers by itself', async () => {
    const outcome = database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      // The termination notice arrives while no statement is running on this connection.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`select 1`.execute(trx);
    });
    await expect(outcome).rejects.toThrow();
    await expect(database.ping()).resolves.toBeUndefined();
    const products = await database.db.selectFrom('products').select('id').limit(1).execute();
    expect(products).toHaveLength(1);
  });
});
