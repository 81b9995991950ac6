import { sql, type Kysely, type Migration } from 'kysely';

import type { DatabaseDialect } from '../database.js';

/**
 * A catalog version, bumped by triggers in the same transaction as any change to `products`
 * (stock, price, name, new or removed products) — whoever makes the change: this API, a worker,
 * another replica or a manual UPDATE. Responses to public catalog queries are cached against it,
 * so a reader that sees a version can never be served data older than that version.
 */
export function catalogVersion(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('catalog_state')
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('version', 'bigint', (col) => col.notNull())
        .addCheckConstraint('catalog_state_single_row', sql`id = 1`)
        .execute();
      await sql`insert into catalog_state (id, version) values (1, 0)`.execute(db);
      if (dialect === 'postgres') {
        await sql`create function bump_catalog_version() returns trigger language plpgsql as $$
          begin update catalog_state set version = version + 1 where id = 1; return null; end $$`.execute(db);
        await sql`create trigger products_catalog_version after insert or update or delete on products
          for each statement execute function bump_catalog_version()`.execute(db);
      } else {
        for (const event of ['insert', 'update', 'delete']) {
          await sql
            .raw(`create trigger products_catalog_version_${event} after ${event} on products
              begin update catalog_state set version = version + 1 where id = 1; end`)
            .execute(db);
        }
      }
    },
    async down(db: Kysely<any>) {
      if (dialect === 'postgres') {
        await sql`drop trigger if exists products_catalog_version on products`.execute(db);
        await sql`drop function if exists bump_catalog_version()`.execute(db);
      } else {
        for (const event of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists products_catalog_version_${event}`).execute(db);
      }
      await db.schema.dropTable('catalog_state').execute();
    },
  };
}
