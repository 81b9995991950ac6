import { immutableSet } from '../lib/immutable-set.js';
import type { ScopeMapSpec } from '../lib/scope-map-spec.js';
import type { ClientPrincipal, UserPrincipal } from './principal.js';

/** A {@link ScopeMapSpec} compiled against the API's scope catalog. */
export interface ScopeMapper {
  /** `scopes` (a token's, exact strings) in this API's names, given the token's `aud`. */
  map(scopes: ReadonlySet<string>, audience: readonly string[]): ReadonlySet<string>;
}

/**
 * Compiles `spec` into exact lookup tables for the API's scopes (`catalog`, `verb:resource`
 * names): every spelling the spec allows is listed up front, so mapping never matches a
 * substring or a pattern. Spellings that are themselves API scopes are not remapped.
 *
 * @throws {TypeError} when an alias targets a scope outside `catalog`, or two rules map one
 *   spelling to different scopes.
 */
export function compileScopeMap(spec: ScopeMapSpec, catalog: readonly string[]): ScopeMapper {
  const known = new Set(catalog);
  const renames = new Map<string, string>();
  const add = (from: string, to: string): void => {
    const existing = renames.get(from);
    if (existing !== undefined && existing !== to) throw new TypeError(`scope "${from}" would map to both "${existing}" and "${to}"`);
    renames.set(from, to);
  };

  for (const [from, to] of Object.entries(spec.aliases ?? {})) {
    if (!known.has(to)) throw new TypeError(`alias target "${to}" is not one of this API's scopes`);
    add(from, to);
  }

  const separator = spec.separator ?? ':';
  const prefixes = ['', ...(spec.prefixes ?? [])];
  // resource → verbs it has, from the catalog's `verb:resource` names.
  const verbsByResource = new Map<string, Set<string>>();
  for (const scope of catalog) {
    const colon = scope.indexOf(':');
    if (colon <= 0 || colon === scope.length - 1 || scope.indexOf(':', colon + 1) !== -1) continue;
    const verb = scope.slice(0, colon);
    const resource = scope.slice(colon + 1);
    if (!verbsByResource.has(resource)) verbsByResource.set(resource, new Set());
    verbsByResource.get(resource)!.add(verb);
    const spelled = spec.convention === 'resource:verb' ? `${resource}${separator}${verb}` : `${verb}${separator}${resource}`;
    for (const prefix of prefixes) {
      const from = `${prefix}${spelled}`;
      if (from !== scope && !known.has(from) && !Object.hasOwn(spec.aliases ?? {}, from)) add(from, scope);
    }
  }

  // Exact `aud` value → the resource it names.
  const resourceByAudience = new Map<string, string>();
  for (const prefix of spec.audiencePrefixes ?? []) {
    for (const resource of verbsByResource.keys()) resourceByAudience.set(`${prefix}${resource}`, resource);
  }

  return {
    map(scopes, audience) {
      const resources = audience.flatMap((aud) => {
        const resource = resourceByAudience.get(aud);
        return resource === undefined ? [] : [resource];
      });
      const mapped: string[] = [];
      for (const scope of scopes) {
        const renamed = renames.get(scope);
        if (renamed !== undefined) {
          mapped.push(renamed);
          continue;
        }
        // A bare verb in a token for a resource-indicator audience: one scope per named resource.
        const fromAudience = resources.filter((resource) => verbsByResource.get(resource)!.has(scope)).map((resource) => `${scope}:${resource}`);
        if (fromAudience.length > 0) mapped.push(...fromAudience);
        else mapped.push(scope);
      }
      return immutableSet(mapped);
    },
  };
}

/** `principal` with its scopes mapped, still frozen; unchanged without a mapper. */
export function withMappedScopes(principal: UserPrincipal | ClientPrincipal, mapper: ScopeMapper | undefined): UserPrincipal | ClientPrincipal {
  if (mapper === undefined) return principal;
  const scopes = mapper.map(principal.scopes, principal.audience);
  return principal.kind === 'user' ? Object.freeze<UserPrincipal>({ ...principal, scopes }) : Object.freeze<ClientPrincipal>({ ...principal, scopes });
}
