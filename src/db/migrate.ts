import { Migrator, sql, type Kysely, type MigrationResult } from 'kysely';

import { dialectOf } from './database.js';
import { migrations } from './migrations/index.js';

/** The outcome of a successful run: the migrations applied now, by name, in order. */
export interface MigrateResult {
  readonly applied: readonly string[];
}

/** A migration failed; the run stopped there (on PostgreSQL the failing migration was rolled back). */
export class MigrationError extends Error {
  readonly migration: string | undefined;

  constructor(migration: string | undefined, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      migration === undefined
        ? `Database migration failed: ${detail}`
        : `Database migration "${migration}" failed: ${detail}`,
      { cause },
    );
    this.name = 'MigrationError';
    this.migration = migration;
  }
}

/** Applies every pending migration. Throws MigrationError naming the migration that failed. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrateResult> {
  const dialect = dialectOf(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    // Kysely's table lookup scans every schema unless told which one to use, so a sibling
    // schema's kysely_migration table (e.g. a parallel test) would be taken for ours.
    ...(dialect === 'postgres' ? { migrationTableSchema: await currentSchema(db) } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new MigrationError(undefined, new Error('no schema on the search_path exists'));
  return schema;
}
