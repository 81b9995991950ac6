/**
 * A `Set` whose mutators throw, so a principal's scopes cannot be changed by code holding a
 * reference (principals are cached and shared between requests).
 */
export function immutableSet<T>(values: Iterable<T>): ReadonlySet<T> {
  const set = new Set(values);
  const refuse = (): never => {
    throw new TypeError('immutable set');
  };
  Object.defineProperties(set, {
    add: { value: refuse },
    delete: { value: refuse },
    clear: { value: refuse },
  });
  return Object.freeze(set);
}
