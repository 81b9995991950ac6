/**
 * Stores `key → value` in a map used as a bounded cache, whose insertion order is the entries'
 * age: when the map already holds `maxEntries` and `key` is new, the oldest entry goes first.
 * Returns `value`.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, maxEntries: number): V {
  if (map.size >= maxEntries && !map.has(key)) map.delete(map.keys().next().value as K);
  map.set(key, value);
  return value;
}
