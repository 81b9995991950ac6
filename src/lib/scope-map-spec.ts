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
