import type { Migration } from 'kysely';

import type { DatabaseDialect } from '../database.js';
import { initialSchema } from './0001-initial-schema.js';
import { catalogVersion } from './0002-catalog-version.js';
import { coveringIndexes } from './0003-covering-indexes.js';
import { catalogVersionPartitions } from './0004-catalog-version-partitions.js';

/**
 * Every migration, by name; names sort in the order they run. Imported statically so the
 * set is fixed at build time. Append new entries; never rename or edit an applied one.
 */
export function migrations(dialect: DatabaseDialect): Record<string, Migration> {
  return {
    '0001-initial-schema': initialSchema(dialect),
    '0002-catalog-version': catalogVersion(dialect),
    '0003-covering-indexes': coveringIndexes(dialect),
    '0004-catalog-version-partitions': catalogVersionPartitions(dialect),
  };
}
