import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getNamedType,
  getDirectiveValues,
  getVariableValues,
  isAbstractType,
  isObjectType,
} from 'graphql';
import type { AuthorizationIndex } from './authorization-index.js';
import type { FieldGuard } from './field-guard.js';
import { type Decision, type Denial, NO_REQUIREMENT, type Requirement, combine } from './requirement.js';

/** One field of the operation that will be denied, at its response path (list indices omitted). */
export interface DeniedField {
  readonly path: string;
  readonly coordinate: string;
  readonly denial: Denial;
  /**
   * The field is reached through an interface or union and is allowed on some of the possible
   * types: whether it is denied depends on the runtime type (the field guard decides then).
   */
  readonly conditional: boolean;
}

export interface RootFieldDecision {
  readonly responseKey: string;
  readonly coordinate: string;
  readonly decision: Decision;
}

/** The authorization verdict for an operation, computed before anything executes. */
export interface OperationPlan {
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** Root fields other than `__typename` and introspection. */
  readonly rootFields: readonly RootFieldDecision[];
  /** Every field that would be denied and is reachable (its ancestors are allowed). */
  readonly denied: readonly DeniedField[];
  /** What the whole operation needs, every field combined: names `scope=` in a 403 challenge. */
  readonly requirement: Requirement;
}

interface Walk {
  readonly schema: GraphQLSchema;
  readonly index: AuthorizationIndex;
  readonly guard: FieldGuard;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly denied: DeniedField[];
  requirement: Requirement;
}

function included(node: FieldNode | { directives?: FieldNode['directives'] }, variables: Readonly<Record<string, unknown>>): boolean {
  if (!node.directives || node.directives.length === 0) return true;
  const skip = getDirectiveValues(GraphQLSkipDirective, node, variables as Record<string, unknown>);
  if (skip?.['if'] === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, variables as Record<string, unknown>);
  return include?.['if'] !== false;
}

/** Concrete object types a selection set can apply to, narrowed by a type condition. */
function narrow(w: Walk, types: readonly GraphQLObjectType[], typeConditionName: string | undefined): readonly GraphQLObjectType[] {
  if (!typeConditionName) return types;
  const condition = w.schema.getType(typeConditionName);
  if (!condition) return [];
  if (isObjectType(condition)) return types.filter((t) => t === condition);
  if (isAbstractType(condition)) return types.filter((t) => w.schema.isSubType(condition, t));
  return [];
}

/**
 * Collects the fields of a selection set per response key, across fragments, for the given
 * possible parent types — as execution would, honouring @skip/@include with the actual variables.
 */
function collect(
  w: Walk,
  selectionSet: SelectionSetNode,
  types: readonly GraphQLObjectType[],
  into: Map<string, Array<{ node: FieldNode; types: readonly GraphQLObjectType[] }>>,
  visited: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (!included(selection, w.variables)) continue;
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      let list = into.get(key);
      if (!list) into.set(key, (list = []));
      list.push({ node: selection, types });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(w, selection.selectionSet, narrow(w, types, selection.typeCondition?.name.value), into, visited);
    } else {
      const name = selection.name.value;
      const fragment = w.fragments[name];
      if (!fragment || visited.has(name)) continue;
      collect(w, fragment.selectionSet, narrow(w, types, fragment.typeCondition.name.value), into, new Set(visited).add(name));
    }
  }
}

function possibleTypes(w: Walk, typeName: string): readonly GraphQLObjectType[] {
  const t = w.schema.getType(typeName);
  if (!t) return [];
  if (isObjectType(t)) return [t];
  if (isAbstractType(t)) return w.schema.getPossibleTypes(t);
  return [];
}

/** Walks a selection set; returns the decisions of its fields when `roots` is requested. */
function walk(w: Walk, selectionSet: SelectionSetNode, types: readonly GraphQLObjectType[], path: string, reachable: boolean, roots?: RootFieldDecision[]): void {
  const fields = new Map<string, Array<{ node: FieldNode; types: readonly GraphQLObjectType[] }>>();
  collect(w, selectionSet, types, fields, new Set());
  for (const [key, entries] of fields) {
    const fieldPath = path ? `${path}.${key}` : key;
    // Per concrete parent type: the same response key may be Order.id or Product.id, and fragments on
    // types that cannot both apply may even use one alias for different fields (x: email / x: description).
    const byType = new Map<GraphQLObjectType, { name: string; nodes: FieldNode[] }>();
    for (const e of entries) {
      const name = e.node.name.value;
      if (name.startsWith('__')) continue; // __typename and introspection are public
      for (const t of e.types) {
        if (!t.getFields()[name]) continue;
        let slot = byType.get(t);
        if (!slot) byType.set(t, (slot = { name, nodes: [] }));
        slot.nodes.push(e.node);
      }
    }
    const decisions = [...byType].map(([parent, { name }]) => w.guard.decide(w.index.field(parent.name, name)).allowed);
    const conditional = decisions.includes(true) && decisions.includes(false);
    for (const [parent, { name, nodes }] of byType) {
      const field = parent.getFields()[name]!;
      const requirement = w.index.field(parent.name, name);
      w.requirement = combine(w.requirement, requirement);
      const decision = w.guard.decide(requirement);
      const coordinate = `${parent.name}.${name}`;
      if (roots) roots.push({ responseKey: key, coordinate, decision });
      const allowed = decision.allowed;
      if (!allowed && reachable) w.denied.push({ path: fieldPath, coordinate, denial: decision, conditional });
      const returnType = getNamedType(field.type);
      const childTypes = possibleTypes(w, returnType.name);
      for (const node of nodes) {
        if (node.selectionSet) walk(w, node.selectionSet, childTypes, fieldPath, reachable && allowed);
      }
    }
  }
}

/**
 * Analyses a validated operation with its variables, before execution: which root fields are
 * allowed, which reachable fields are denied (through fragments, inline fragments on abstract
 * types, aliases and @skip/@include), and what the whole operation requires.
 */
export function planOperation(input: {
  schema: GraphQLSchema;
  index: AuthorizationIndex;
  guard: FieldGuard;
  operation: OperationDefinitionNode;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** Coerced variable values (see {@link coerceVariables}). */
  variables: Readonly<Record<string, unknown>>;
}): OperationPlan {
  const { schema, operation } = input;
  const rootType =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const w: Walk = {
    schema,
    index: input.index,
    guard: input.guard,
    fragments: input.fragments,
    variables: input.variables,
    denied: [],
    requirement: NO_REQUIREMENT,
  };
  const rootFields: RootFieldDecision[] = [];
  if (rootType) walk(w, operation.selectionSet, [rootType], '', true, rootFields);
  return { operationType: operation.operation, rootFields, denied: w.denied, requirement: w.requirement };
}

const NO_VARIABLES: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The operation's variables coerced as execution will coerce them (defaults applied, types
 * checked), so that @skip/@include are read exactly as graphql-js will read them. Undefined when
 * the variables are invalid: execution then reports that error itself and nothing is resolved.
 */
export function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  // Hot path: most operations declare no variables, and then nothing needs coercing.
  if (!operation.variableDefinitions || operation.variableDefinitions.length === 0) return NO_VARIABLES;
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {}, { maxErrors: 1 });
  return result.errors ? undefined : result.coerced;
}
