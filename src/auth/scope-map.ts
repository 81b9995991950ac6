import { immutableSet } from '../lib/immutable-set.js';
import type { ClientPrincipal, UserPrincipal } from './principal.js';

/**
 * How an authorization server spells this API's `verb:resource` scopes (`read:orders`), declared in
 * configuration (`OAUTH_SCOPE_MAP`, or `scopeMap` of an `OAUTH_ISSUERS` entry). Every rule is an
 * exact string comparison; a scope no rule maps is kept as it is.
 *
 * ```json
 * { "convention": "resource:verb", "prefixes": ["https://api.example.com/"],
 *   "audiencePrefixes": ["https://api.example.com/"], "aliases": { "orders.read": "read:orders" } }
 * ```
 */
export interface ScopeMapSpec {
  /** Order of the two parts in the server's scopes. Default: `verb:resource` (ours). */
  readonly convention?: 'verb:resource' | 'resource:verb';
  /** What separates verb and resource in the server's scopes. Default: `:`. */
  readonly separator?: string;
  /**
   * Prefixes the server puts before its scopes (the URI form:
   * `https://api.example.com/orders:read`). Unprefixed scopes are recognised as well.
   */
  readonly prefixes?: readonly string[];
  /**
   * The resource-indicator form (RFC 8707): a token whose `aud` is one of these prefixes followed
   * by a resource name (`https://api.example.com/orders`) carries bare verbs as scopes (`read`),
   * meaning `read:orders`.
   */
  readonly audiencePrefixes?: readonly string[];
  /** Exact renames, checked first: `{ "orders.read": "read:orders" }`. Targets must be API scopes. */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** A {@link ScopeMapSpec} compiled against the API's scope catalog. */
export interface ScopeMapper {
  /** `scopes` (a token's, exact strings) in this API's names, given the token's `aud`. */
  map(scopes: ReadonlySet<string>, audience: readonly string[]): ReadonlySet<string>;
}

const SPEC_KEYS = new Set(['convention', 'separator', 'prefixes', 'audiencePrefixes', 'aliases']);
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

/**
 * Validates a scope map read from configuration (parsed JSON).
 * @throws {TypeError} naming the offending member.
 */
export function parseScopeMapSpec(value: unknown): ScopeMapSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('must be a JSON object');
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw new TypeError(`unknown member "${key}" (expected ${[...SPEC_KEYS].join(', ')})`);
  }
  const { convention, separator, prefixes, audiencePrefixes, aliases } = spec;
  if (convention !== undefined && convention !== 'verb:resource' && convention !== 'resource:verb') {
    throw new TypeError('convention must be "verb:resource" or "resource:verb"');
  }
  if (separator !== undefined && (typeof separator !== 'string' || separator.length === 0 || separator.length > 8 || !SCOPE_TOKEN.test(separator))) {
    throw new TypeError('separator must be 1 to 8 scope characters');
  }
  const stringList = (name: string, list: unknown): readonly string[] | undefined => {
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || !SCOPE_TOKEN.test(item))) {
      throw new TypeError(`${name} must be an array of non-empty strings without spaces`);
    }
    return Object.freeze([...(list as string[])]);
  };
  let aliasTable: Readonly<Record<string, string>> | undefined;
  if (aliases !== undefined) {
    if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) throw new TypeError('aliases must be an object of scope → scope');
    for (const [from, to] of Object.entries(aliases)) {
      if (!SCOPE_TOKEN.test(from) || typeof to !== 'string' || !SCOPE_TOKEN.test(to)) throw new TypeError('aliases must map scopes to scopes (strings without spaces)');
    }
    aliasTable = Object.freeze({ ...(aliases as Record<string, string>) });
  }
  return Object.freeze({
    ...(convention !== undefined ? { convention } : {}),
    ...(separator !== undefined ? { separator: separator as string } : {}),
    ...(prefixes !== undefined ? { prefixes: stringList('prefixes', prefixes) } : {}),
    ...(audiencePrefixes !== undefined ? { audiencePrefixes: stringList('audiencePrefixes', audiencePrefixes) } : {}),
    ...(aliasTable !== undefined ? { aliases: aliasTable } : {}),
  });
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
