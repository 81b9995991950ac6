import { sql, type Kysely } from 'kysely';

import { dialectOf } from './database.js';
import type { DatabaseSchema } from './database-schema.js';
import { DEMO_CATALOG } from './demo-catalog.js';

/** Number of products `seedCatalog` inserts into an empty catalog. */
export const DEMO_PRODUCT_COUNT = DEMO_CATALOG.length;

// Arbitrary constant shared by every process that seeds the same PostgreSQL database.
const SEED_LOCK_ID = 7_320_514;

export interface SeedCatalogOptions {
  /** Timestamp for created_at/updated_at. Default: the current time. */
  now?: () => Date;
}

/**
 * Inserts the deterministic demo catalog (`DEMO_PRODUCT_COUNT` products, USD) when the
 * products table is empty; otherwise does nothing. Safe to run from several processes at
 * once on PostgreSQL (an advisory lock serialises the check and the insert).
 */
export async function seedCatalog(
  db: Kysely<DatabaseSchema>,
  options: SeedCatalogOptions = {},
): Promise<{ inserted: number }> {
  const timestamp = (options.now ?? (() => new Date()))().toISOString();
  const dialect = dialectOf(db);
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${sql.lit(SEED_LOCK_ID)})`.execute(trx);
    }
    const existing = await trx.selectFrom('products').select('id').limit(1).executeTakeFirst();
    if (existing !== undefined) return { inserted: 0 };
    await trx
      .insertInto('products')
      .values(
        DEMO_CATALOG.map(([name, description, priceMinor, stock]) => ({
          name,
          description,
          price_minor: priceMinor,
          currency: 'USD',
          stock,
          created_at: timestamp,
          updated_at: timestamp,
        })),
      )
      .execute();
    return { inserted: DEMO_CATALOG.length };
  });
}
