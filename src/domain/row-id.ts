/** Largest id a row can have: ids are 32-bit `integer` columns on both databases. */
export const MAX_ROW_ID = 2_147_483_647;

/** Whether the value can be a row id (a positive integer in column range). */
export function isRowId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_ROW_ID;
}
