/** The kind of integrity constraint a database error reports. */
export type ConstraintKind = 'check' | 'unique' | 'foreign_key' | 'not_null';

const SQLSTATE: Readonly<Record<string, ConstraintKind>> = {
  '23514': 'check',
  '23505': 'unique',
  '23503': 'foreign_key',
  '23502': 'not_null',
};
const SQLITE: Readonly<Record<string, ConstraintKind>> = {
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
};

/**
 * Awaits a statement that should break a constraint and says which kind it broke. Reads the
 * driver's `code` rather than matching with `rejects.toThrow()`: better-sqlite3 keeps the
 * error class of the first jest sandbox that loaded it, so in later test files its errors
 * are not `instanceof Error` and jest's toThrow ignores them.
 */
export async function constraintViolation(statement: Promise<unknown>): Promise<ConstraintKind | 'none' | 'other'> {
  try {
    await statement;
    return 'none';
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    return (typeof code === 'string' && (SQLSTATE[code] ?? SQLITE[code])) || 'other';
  }
}
