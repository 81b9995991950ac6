import { getDirective } from '@graphql-tools/utils';
import {
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
} from 'graphql';
import { NO_REQUIREMENT, type Requirement, combine, describeRequirement, implies, isEmptyRequirement, requirement } from './requirement.js';

/** Start-up failure: the schema's authorization annotations are inconsistent. Names the coordinate. */
export class SchemaAuthorizationError extends Error {
  readonly code = 'ERR_SCHEMA_AUTHORIZATION';
  constructor(
    readonly coordinate: string,
    message: string,
  ) {
    super(`${coordinate}: ${message}`);
    this.name = 'SchemaAuthorizationError';
  }
}

/** A scope the resource server understands, declared with `@scope` on the schema. */
export interface ScopeDefinition {
  readonly name: string;
  readonly description: string;
}

/** Every requirement in a schema, resolved once at start-up. */
export interface AuthorizationIndex {
  /** Effective requirement of `Type.field`: the type's, its interfaces', the field's own, and the returned type's when that is a connection or edge type. */
  field(typeName: string, fieldName: string): Requirement;
  /** Requirement of reaching any field of an object type (its own and its interfaces'). */
  type(typeName: string): Requirement;
  /** The scope catalog, in declaration order. */
  readonly scopes: readonly ScopeDefinition[];
  /** Every `Type.field` with a non-empty requirement, sorted. */
  readonly protectedFields: ReadonlyArray<{ readonly coordinate: string; readonly requirement: Requirement }>;
}

export interface AuthorizationIndexOptions {
  /**
   * Every root field must declare a requirement or be marked `@public`, so that a new field
   * cannot ship unprotected by accident. Default: true.
   */
  denyByDefault?: boolean;
}

type DirectableNode = Parameters<typeof getDirective>[1];

/** Reads `@requiresScope`, `@requiresScopes`, `@authenticated` and `@requiresUser` on one node. */
function ownRequirement(schema: GraphQLSchema, node: DirectableNode, coordinate: string): Requirement {
  let result = NO_REQUIREMENT;
  for (const args of getDirective(schema, node, 'requiresScope') ?? []) {
    const scope: unknown = args['scope'];
    const anyOf: unknown = args['anyOf'];
    if ((scope == null) === (anyOf == null)) {
      throw new SchemaAuthorizationError(coordinate, '@requiresScope takes exactly one of `scope` or `anyOf`');
    }
    const alternatives = typeof scope === 'string' ? [[scope]] : (anyOf as string[]).map((s) => [s]);
    if (alternatives.length === 0) throw new SchemaAuthorizationError(coordinate, '@requiresScope(anyOf: []) names no scope');
    result = combine(result, requirement({ scopes: alternatives }));
  }
  for (const args of getDirective(schema, node, 'requiresScopes') ?? []) {
    const sets = args['scopes'] as string[][];
    if (sets.length === 0 || sets.some((s) => s.length === 0)) {
      throw new SchemaAuthorizationError(coordinate, '@requiresScopes needs at least one non-empty scope set');
    }
    result = combine(result, requirement({ scopes: sets }));
  }
  if (getDirective(schema, node, 'authenticated')?.length) result = combine(result, requirement({ authenticated: true }));
  if (getDirective(schema, node, 'requiresUser')?.length) result = combine(result, requirement({ user: true }));
  return result;
}

function isPublic(schema: GraphQLSchema, field: GraphQLField<unknown, unknown>): boolean {
  return (getDirective(schema, field, 'public')?.length ?? 0) > 0;
}

function readScopeCatalog(schema: GraphQLSchema): ScopeDefinition[] {
  const entries = (getDirective(schema, schema, 'scope') ?? []) as Array<{ name: string; description: string }>;
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new SchemaAuthorizationError('schema', `scope "${e.name}" is declared twice`);
    seen.add(e.name);
  }
  return entries.map((e) => Object.freeze({ name: e.name, description: e.description }));
}

/** The three types of a Relay connection (Cursor Connections Specification, §2 and §3). */
export interface ConnectionShape {
  readonly connection: string;
  readonly edge: string;
  /** The named type of the edge's `node`: what the connection connects. */
  readonly node: string;
}

/**
 * Whether `type` is a connection, by the Relay shape rather than by name: an object or interface
 * type with a field `edges` whose type, lists and non-null unwrapped, is an object or interface
 * type with a field `node`. Undefined for any other type.
 */
export function connectionShape(type: GraphQLNamedType): ConnectionShape | undefined {
  if (!isObjectType(type) && !isInterfaceType(type)) return undefined;
  const edges = type.getFields()['edges'];
  if (!edges) return undefined;
  const edge = getNamedType(edges.type);
  if (!isObjectType(edge) && !isInterfaceType(edge)) return undefined;
  const node = edge.getFields()['node'];
  if (!node) return undefined;
  return { connection: type.name, edge: edge.name, node: getNamedType(node.type).name };
}

/**
 * Resolves every authorization directive of the schema into effective requirements and checks
 * them: every scope named must be declared in the catalog (`@scope` on the schema), an
 * implementation's own requirement must not be weaker than its interface field's, a connection
 * and its edge type (see {@link connectionShape}) must each require at least what their node
 * type requires, and with `denyByDefault` every root field must declare a requirement or be
 * `@public`. A field that returns a connection or edge type also requires that type's requirement.
 * Throws {@link SchemaAuthorizationError} naming the type and field otherwise.
 */
export function buildAuthorizationIndex(schema: GraphQLSchema, options: AuthorizationIndexOptions = {}): AuthorizationIndex {
  const denyByDefault = options.denyByDefault ?? true;
  const scopes = readScopeCatalog(schema);
  const declared = new Set(scopes.map((s) => s.name));
  const typeRequirements = new Map<string, Requirement>();
  const fieldRequirements = new Map<string, Map<string, Requirement>>();

  const checkDeclared = (r: Requirement, coordinate: string): Requirement => {
    for (const set of r.scopes) {
      for (const s of set) {
        if (!declared.has(s)) throw new SchemaAuthorizationError(coordinate, `scope "${s}" is not declared in the scope catalog (@scope on the schema)`);
      }
    }
    return r;
  };

  const interfaceOwn = new Map<string, Requirement>();
  const ownOf = (t: GraphQLInterfaceType): Requirement => {
    let r = interfaceOwn.get(t.name);
    if (!r) {
      r = checkDeclared(ownRequirement(schema, t, t.name), t.name);
      for (const parent of t.getInterfaces()) r = combine(r, ownOf(parent));
      interfaceOwn.set(t.name, r);
    }
    return r;
  };

  const types = Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType | GraphQLInterfaceType => !isIntrospectionType(t) && (isObjectType(t) || isInterfaceType(t)),
  );
  for (const t of types) {
    let typeReq = isInterfaceType(t) ? ownOf(t) : checkDeclared(ownRequirement(schema, t, t.name), t.name);
    for (const i of t.getInterfaces()) typeReq = combine(typeReq, ownOf(i));
    typeRequirements.set(t.name, typeReq);
  }
  const typeRequirement = (name: string) => typeRequirements.get(name) ?? NO_REQUIREMENT;

  // Connections and edges: their cursors and page info tell which objects exist and how many,
  // so each must require at least what its node type does, and so must a field returning one.
  const connectionTypes = new Set<string>();
  for (const t of types) {
    const shape = connectionShape(t);
    if (!shape) continue;
    const nodeReq = typeRequirement(shape.node);
    for (const name of [shape.connection, shape.edge]) {
      connectionTypes.add(name);
      if (!implies(typeRequirement(name), nodeReq)) {
        throw new SchemaAuthorizationError(
          name,
          `connection type of ${shape.node} (${shape.connection}, ${shape.edge}) is weaker than ${shape.node} (${describeRequirement(nodeReq)}); repeat ${shape.node}'s requirement on ${name}`,
        );
      }
    }
  }

  for (const t of types) {
    const typeReq = typeRequirement(t.name);
    const fields = new Map<string, Requirement>();
    const ownTypeReq = isObjectType(t) ? ownRequirement(schema, t, t.name) : NO_REQUIREMENT;
    for (const field of Object.values(t.getFields())) {
      const coordinate = `${t.name}.${field.name}`;
      const own = checkDeclared(ownRequirement(schema, field, coordinate), coordinate);
      let r = combine(typeReq, own);
      const returned = getNamedType(field.type).name;
      if (connectionTypes.has(returned)) r = combine(r, typeRequirement(returned));
      for (const i of t.getInterfaces()) {
        const inherited = i.getFields()[field.name];
        if (!inherited) continue;
        const fromInterface = checkDeclared(ownRequirement(schema, inherited, `${i.name}.${field.name}`), `${i.name}.${field.name}`);
        // Interface requirements are inherited anyway; an implementation that declares its own,
        // weaker one was almost certainly meant as an override, which would be a hole.
        if (!isEmptyRequirement(own) && !implies(combine(ownTypeReq, own), combine(ownOf(i), fromInterface))) {
          throw new SchemaAuthorizationError(coordinate, `declares a weaker requirement than ${i.name}.${field.name}; repeat the interface's requirement`);
        }
        r = combine(r, fromInterface);
      }
      fields.set(field.name, r);
    }
    fieldRequirements.set(t.name, fields);
  }

  if (denyByDefault) {
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      if (!root) continue;
      for (const field of Object.values(root.getFields())) {
        const r = fieldRequirements.get(root.name)?.get(field.name) ?? NO_REQUIREMENT;
        if (isEmptyRequirement(r) && !isPublic(schema, field)) {
          throw new SchemaAuthorizationError(
            `${root.name}.${field.name}`,
            'root field declares no requirement; add @requiresScope, @authenticated or @public (deny-by-default)',
          );
        }
      }
    }
  }

  const protectedFields = [...fieldRequirements]
    .flatMap(([typeName, fields]) => [...fields].map(([fieldName, r]) => ({ coordinate: `${typeName}.${fieldName}`, requirement: r })))
    .filter((f) => !isEmptyRequirement(f.requirement))
    .sort((a, b) => a.coordinate.localeCompare(b.coordinate));

  return Object.freeze({
    field: (typeName: string, fieldName: string) => fieldRequirements.get(typeName)?.get(fieldName) ?? NO_REQUIREMENT,
    type: (typeName: string) => typeRequirements.get(typeName) ?? NO_REQUIREMENT,
    scopes: Object.freeze(scopes),
    protectedFields: Object.freeze(protectedFields),
  });
}
