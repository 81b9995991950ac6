import { sql, type Kysely, type Migration } from 'kysely';

import type { DatabaseDialect } from '../database.js';

/**
 * How many counters the catalog version is split into; a product's is `id % CATALOG_VERSION_PARTITIONS`.
 * Fixed by this migration: changing it needs a new one.
 */
export const CATALOG_VERSION_PARTITIONS = 64;

/**
 * The catalog version as a sum of {@link CATALOG_VERSION_PARTITIONS} counters instead of one row.
 * With one row, every transaction that changed a product (every order) updated that row and held
 * its lock until commit, so on PostgreSQL all orders ran one after the other, whatever they
 * bought. Now a change to a product bumps only its partition's counter, in the same transaction
 * (row-level triggers, whoever writes: this API, another replica, a manual UPDATE), so orders for
 * unrelated products rarely touch the same row. The version readers compare is the sum: every
 * counter only grows, so the sum is unchanged exactly when no product changed, and one
 * statement reads it from one snapshot.
 *
 * Partition 0 starts at the old version + 1, so a version read before the migration is never
 * read again after it.
 */
export function catalogVersionPartitions(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('catalog_versions')
        .addColumn('partition', 'integer', (col) => col.primaryKey())
        .addColumn('version', 'bigint', (col) => col.notNull())
        .execute();
      await sql`insert into catalog_versions (partition, version)
        select 0, version + 1 from catalog_state where id = 1`.execute(db);
      const rest = Array.from({ length: CATALOG_VERSION_PARTITIONS - 1 }, (_, i) => ({ partition: i + 1, version: 0 }));
      await db.insertInto('catalog_versions').values(rest).execute();
      const bump = (row: 'new' | 'old') =>
        `update catalog_versions set version = version + 1 where partition = ${row}.id % ${CATALOG_VERSION_PARTITIONS}`;
      if (dialect === 'postgres') {
        await sql`drop trigger products_catalog_version on products`.execute(db);
        await sql`drop function bump_catalog_version()`.execute(db);
        await sql
          .raw(`create function bump_catalog_version_partition() returns trigger language plpgsql as $$
            begin
              if tg_op in ('UPDATE', 'DELETE') then ${bump('old')}; end if;
              if tg_op = 'INSERT' then ${bump('new')};
              elsif tg_op = 'UPDATE' and new.id % ${CATALOG_VERSION_PARTITIONS} <> old.id % ${CATALOG_VERSION_PARTITIONS} then ${bump('new')};
              end if;
              return null;
            end $$`)
          .execute(db);
        await sql`create trigger products_catalog_version after insert or update or delete on products
          for each row execute function bump_catalog_version_partition()`.execute(db);
      } else {
        for (const event of ['insert', 'update', 'delete']) {
          await sql.raw(`drop trigger products_catalog_version_${event}`).execute(db);
        }
        await sql.raw(`create trigger products_catalog_version_insert after insert on products begin ${bump('new')}; end`).execute(db);
        await sql.raw(`create trigger products_catalog_version_delete after delete on products begin ${bump('old')}; end`).execute(db);
        // An update that moves a product to another partition (a changed id) bumps both.
        await sql
          .raw(`create trigger products_catalog_version_update after update on products begin
            ${bump('old')};
            update catalog_versions set version = version + 1
              where partition = new.id % ${CATALOG_VERSION_PARTITIONS} and partition <> old.id % ${CATALOG_VERSION_PARTITIONS};
          end`)
          .execute(db);
      }
      await db.schema.dropTable('catalog_state').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema
        .createTable('catalog_state')
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('version', 'bigint', (col) => col.notNull())
        .addCheckConstraint('catalog_state_single_row', sql`id = 1`)
        .execute();
      await sql`insert into catalog_state (id, version) select 1, coalesce(sum(version), 0) + 1 from catalog_versions`.execute(db);
      const bump = 'update catalog_state set version = version + 1 where id = 1';
      if (dialect === 'postgres') {
        await sql`drop trigger products_catalog_version on products`.execute(db);
        await sql`drop function bump_catalog_version_partition()`.execute(db);
        await sql.raw(`create function bump_catalog_version() returns trigger language plpgsql as $$ begin ${bump}; return null; end $$`).execute(db);
        await sql`create trigger products_catalog_version after insert or update or delete on products
          for each statement execute function bump_catalog_version()`.execute(db);
      } else {
        for (const event of ['insert', 'update', 'delete']) {
          await sql.raw(`drop trigger products_catalog_version_${event}`).execute(db);
          await sql.raw(`create trigger products_catalog_version_${event} after ${event} on products begin ${bump}; end`).execute(db);
        }
      }
      await db.schema.dropTable('catalog_versions').execute();
    },
  };
}
