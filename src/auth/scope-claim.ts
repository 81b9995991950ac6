import { immutableSet } from '../lib/immutable-set.js';

/**
 * The scopes granted by a verified token: the union of `scope` (RFC 9068 §2.2.3, RFC 8693 §4.2: a
 * space-delimited string) and `scp` (an array of strings, or a space-delimited string, as some
 * providers issue it). Values of other types, and array members that are not a single non-empty
 * scope token, are ignored.
 *
 * Scopes are exact strings: callers must compare with `has`, never by substring or prefix.
 */
export function parseScopes(claims: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  const scopes: string[] = [];
  for (const value of [claims['scope'], claims['scp']]) {
    if (typeof value === 'string') scopes.push(...splitScopeString(value));
    else if (Array.isArray(value)) {
      // A member is one scope-token; one containing a space is malformed, not a list.
      for (const member of value) if (isScopeToken(member)) scopes.push(member);
    }
  }
  return immutableSet(scopes);
}

// RFC 6749 §3.3: scope = scope-token *( SP scope-token ); tolerate runs of spaces.
function splitScopeString(value: string): string[] {
  return value.split(' ').filter((scope) => scope.length > 0);
}

function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !value.includes(' ');
}
