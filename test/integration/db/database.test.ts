import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';

import { createDatabase, dialectOf } from '../../../src/db/database.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { constraintViolation } from '../../fixtures/constraint-violation.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(databaseTargets())('database on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  it('answers ping', async () => {
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('reports its dialect, also from the Kysely handle', () => {
    expect(database.dialect).toBe(target.name);
    expect(dialectOf(database.db)).toBe(target.name);
  });

  it('returns timestamps as ISO-8601 UTC strings', async () => {
    const product = await database.db.selectFrom('products').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    expect(product.created_at).toMatch(ISO_UTC);
    expect(product.updated_at).toMatch(ISO_UTC);
  });

  it('round-trips a written timestamp exactly', async () => {
    const at = '2026-01-02T03:04:05.678Z';
    await database.db.updateTable('products').set({ updated_at: at }).where('id', '=', 2).execute();
    const row = await database.db.selectFrom('products').select('updated_at').where('id', '=', 2).executeTakeFirstOrThrow();
    expect(row.updated_at).toBe(at);
  });

  it('returns counts and money as numbers', async () => {
    const row = await database.db
      .selectFrom('products')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('price_minor').as('total')])
      .executeTakeFirstOrThrow();
    expect(typeof row.n).toBe('number');
    expect(typeof row.total).toBe('number');
    const price = await database.db.selectFrom('products').select('price_minor').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(price.price_minor).toBe(1499);
  });

  it('reports each statement to onQuery exactly once', async () => {
    database.statements.reset();
    await database.db.selectFrom('products').select('id').limit(1).execute();
    await sql`select 1`.execute(database.db);
    expect(database.statements.count).toBe(2);
    expect(database.statements.sql[0]).toMatch(/^select "id" from "products"/);
  });

  it('counts begin and commit of a transaction as statements', async () => {
    database.statements.reset();
    await database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('products').select('id').limit(1).execute();
    });
    expect(database.statements.sql.map((s) => s.toLowerCase().split(' ')[0])).toEqual(['begin', 'select', 'commit']);
  });

  it('enforces foreign keys', async () => {
    const insert = database.db
      .insertInto('orders')
      .values({ customer_id: 999_999, status: 'PENDING', total_minor: 0, currency: 'USD', idempotency_key: null, request_fingerprint: null })
      .execute();
    expect(await constraintViolation(insert)).toBe('foreign_key');
  });
});

describe('SQLite files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orders-db-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the parent directory and uses WAL with foreign keys on', async () => {
    const filename = join(dir, 'nested', 'deeper', 'app.db');
    const database = await createDatabase({ kind: 'sqlite', filename });
    try {
      expect(existsSync(filename)).toBe(true);
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(journal.rows[0]?.journal_mode).toBe('wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(database.db);
      expect(fk.rows[0]?.foreign_keys).toBe(1);
      const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(database.db);
      expect(busy.rows[0]?.timeout).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });

  it('opens an in-memory database', async () => {
    const database = await createDatabase({ kind: 'sqlite', filename: ':memory:' });
    await expect(database.ping()).resolves.toBeUndefined();
    await database.close();
    await database.close();
  });
});

describe('PostgreSQL connection errors', () => {
  it('rejects when the server cannot be reached', async () => {
    await expect(
      createDatabase({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', poolSize: 1 }),
    ).rejects.toThrow();
  });

  it('rejects a search path that is not a list of identifiers', async () => {
    await expect(
      createDatabase({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', searchPath: 'x; drop table y' }),
    ).rejects.toThrow(/searchPath/);
  });
});
