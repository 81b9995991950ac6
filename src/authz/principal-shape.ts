import type { Principal } from '../auth/principal.js';

const keys = new WeakMap<Principal, string>();

/**
 * What every authorization decision depends on: the principal's kind and exact scope set
 * (`evaluate` reads nothing else). Two principals with the same shape get the same decision for
 * every requirement. Memoised per principal object (verified principals are reused per token).
 */
export function principalShapeKey(principal: Principal): string {
  let key = keys.get(principal);
  if (key === undefined) {
    key = `${principal.kind}\u0000${[...principal.scopes].sort().join(' ')}`;
    keys.set(principal, key);
  }
  return key;
}
