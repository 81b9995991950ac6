/**
 * Programmer misuse throws at construction: every option given (not undefined) must be a finite
 * number ≥ 0, or with `integer` a non-negative integer. The message names the option.
 */
export function checkNonNegative(options: Readonly<Record<string, number | undefined>>, kind: 'number' | 'integer' = 'number'): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const valid = kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value);
    if (!valid || value < 0) throw new TypeError(`${name} must be a non-negative ${kind}`);
  }
}
