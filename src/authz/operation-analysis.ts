import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValueNode,
  getNamedType,
  isAbstractType,
  isObjectType,
  valueFromAST,
  type SelectionNode,
} from 'graphql';
import { shouldIncludeNode } from '@graphql-tools/utils';
import type { AuthorizationIndex } from './authorization-index.js';
import { type CostIndex, DEFAULT_LIST_SIZE, type FieldCost } from './cost-directives.js';
import { NO_REQUIREMENT, type Requirement, combine } from './requirement.js';

/**
 * One field on one concrete parent type, merged across every node that selects it under one
 * response key (as execution merges them).
 */
export interface FieldSlot {
  readonly responseKey: string;
  readonly parent: GraphQLObjectType;
  readonly fieldName: string;
  /** `Type.field`. */
  readonly coordinate: string;
  /** Authorization requirement; empty for `__typename` and introspection. */
  readonly requirement: Requirement;
  /** `__schema` / `__type` (introspection) or `__typename`. */
  readonly meta: boolean;
  readonly nodes: readonly FieldNode[];
  /** The merged selection of the field's value, when it has one. */
  readonly child: SelectionTree | undefined;
  /** Cost of one value (before list multiplication), and how its list is sized. */
  readonly cost: FieldCost;
  /** Size of the list this field returns as set by its own slicing arguments; undefined: none given. */
  readonly sliced: number | undefined;
}

/** The fields a response key resolves to, one slot per concrete parent type it applies to. */
export interface ResponseKey {
  readonly key: string;
  readonly slots: readonly FieldSlot[];
}

/**
 * A merged selection set on its possible concrete types. Trees are shared: every place the same
 * field nodes are selected on the same types (a fragment spread many times) uses one tree, so
 * the analysis and everything measured on it grow with the document, not with its paths.
 */
export interface SelectionTree {
  readonly id: number;
  readonly types: readonly GraphQLObjectType[];
  readonly keys: readonly ResponseKey[];
}

/** What an operation would cost, measured before anything executes. */
export interface OperationMeasures {
  /** Deepest selection, not counting introspection (a root field is depth 1). */
  readonly depth: number;
  /** Aliased fields in the response, fragments expanded (`__typename` too). */
  readonly aliases: number;
  /** Response keys of the root selection. */
  readonly rootFields: number;
  /**
   * Field selections with every fragment spread expanded where it is spread (not merged): what a
   * naive walk of the document would visit. Bounds fragment fan-outs whose merged response is small.
   */
  readonly selections: number;
  /** Most directives on one selection. */
  readonly directivesPerField: number;
  /** Estimated cost (IBM cost directives): lists count at their requested or assumed size. */
  readonly cost: number;
  /** Deepest selection under `__schema` / `__type`, those fields included. */
  readonly introspectionDepth: number;
  /** Most lists nested in one introspection path (`types { fields { args } }` is 3). */
  readonly introspectionListDepth: number;
  /** `__schema` / `__type` fields at the root, aliases counted. */
  readonly introspectionFields: number;
  /** A field with `requireOneSlicingArgument` got none or several of its slicing arguments. */
  readonly slicingArgumentMissing: string | undefined;
}

/** The analysis of one operation with one set of variable values. Independent of the caller. */
export interface OperationAnalysis {
  readonly operationType: 'query' | 'mutation' | 'subscription';
  readonly root: SelectionTree | undefined;
  /** What the whole operation needs, every field combined. */
  readonly requirement: Requirement;
  readonly measures: OperationMeasures;
  /** Selections visited while building the trees: grows with the document's size (tests assert on it). */
  readonly visits: number;
}

export interface AnalyseInput {
  readonly schema: GraphQLSchema;
  /** Authorization requirements; omitted: every field counts as unprotected. */
  readonly index?: AuthorizationIndex;
  readonly costs: CostIndex;
  readonly operation: OperationDefinitionNode;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** Coerced variable values. */
  readonly variables: Readonly<Record<string, unknown>>;
}

interface Build {
  readonly input: AnalyseInput;
  readonly trees: Map<string, SelectionTree>;
  readonly nodeIds: WeakMap<FieldNode, number>;
  readonly typeSetIds: Map<string, number>;
  nextNodeId: number;
  nextTreeId: number;
  visits: number;
  directivesPerField: number;
  /** The first field whose required slicing argument is missing (`requireOneSlicingArgument`). */
  slicingMissing: string | undefined;
}

/** The document's fragment definitions by name. */
export function fragmentsOf(document: DocumentNode | undefined): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const def of document?.definitions ?? []) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
  return fragments;
}

/**
 * `@skip`/`@include` read as execution reads them (`@graphql-tools/utils`' `shouldIncludeNode`,
 * which on graphql 16 takes the coerced values as `coerced`); most selections carry no directive.
 */
function included(node: SelectionNode, variables: Readonly<Record<string, unknown>>): boolean {
  return node.directives === undefined || node.directives.length === 0 || shouldIncludeNode({ coerced: variables, sources: {} }, node);
}

/** Concrete object types a selection applies to, narrowed by a type condition. */
function narrow(schema: GraphQLSchema, types: readonly GraphQLObjectType[], typeConditionName: string | undefined): readonly GraphQLObjectType[] {
  if (!typeConditionName) return types;
  const condition = schema.getType(typeConditionName);
  if (!condition) return [];
  if (isObjectType(condition)) return types.filter((t) => t === condition);
  if (isAbstractType(condition)) return types.filter((t) => schema.isSubType(condition, t));
  return [];
}

function possibleTypes(schema: GraphQLSchema, typeName: string): readonly GraphQLObjectType[] {
  const t = schema.getType(typeName);
  if (!t) return [];
  if (isObjectType(t)) return [t];
  if (isAbstractType(t)) return schema.getPossibleTypes(t);
  return [];
}

function typeSetKey(b: Build, types: readonly GraphQLObjectType[]): string {
  const names = types.map((t) => t.name).join(',');
  let id = b.typeSetIds.get(names);
  if (id === undefined) b.typeSetIds.set(names, (id = b.typeSetIds.size));
  return String(id);
}

function nodeId(b: Build, node: FieldNode): number {
  let id = b.nodeIds.get(node);
  if (id === undefined) b.nodeIds.set(node, (id = b.nextNodeId++));
  return id;
}

type Collected = Map<string, Array<{ readonly node: FieldNode; readonly types: readonly GraphQLObjectType[] }>>;

/**
 * Collects the fields of selection sets per response key, as execution does (graphql-js
 * `collectFields`): each fragment is visited at most once per collection and type set.
 */
function collect(b: Build, selectionSet: SelectionSetNode, types: readonly GraphQLObjectType[], into: Collected, visited: Set<string>): void {
  const { schema, variables, fragments } = b.input;
  for (const selection of selectionSet.selections) {
    b.visits += 1;
    const directives = selection.directives?.length ?? 0;
    if (directives > b.directivesPerField) b.directivesPerField = directives;
    if (!included(selection, variables)) continue;
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      let list = into.get(key);
      if (!list) into.set(key, (list = []));
      list.push({ node: selection, types });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(b, selection.selectionSet, narrow(schema, types, selection.typeCondition?.name.value), into, visited);
    } else {
      const fragment = fragments[selection.name.value];
      if (!fragment) continue;
      const narrowed = narrow(schema, types, fragment.typeCondition.name.value);
      const seen = `${selection.name.value}\u0000${typeSetKey(b, narrowed)}`;
      if (visited.has(seen)) continue;
      visited.add(seen);
      collect(b, fragment.selectionSet, narrowed, into, visited);
    }
  }
}

function fieldDef(schema: GraphQLSchema, parent: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return parent.getFields()[name] as GraphQLField<unknown, unknown> | undefined;
}

function argumentValue(b: Build, field: GraphQLField<unknown, unknown>, node: FieldNode, name: string): unknown {
  const arg = field.args.find((a) => a.name === name);
  if (!arg) return undefined;
  const given: ValueNode | undefined = node.arguments?.find((a) => a.name.value === name)?.value;
  if (given === undefined) return arg.defaultValue;
  if (given.kind === Kind.VARIABLE) {
    const { variables } = b.input;
    return Object.prototype.hasOwnProperty.call(variables, given.name.value) ? variables[given.name.value] : arg.defaultValue;
  }
  return valueFromAST(given, arg.type, b.input.variables as Record<string, unknown>);
}

/** The list size a field's own slicing arguments set (largest over its nodes), and whether a required one is missing. */
function slicing(b: Build, field: GraphQLField<unknown, unknown>, cost: FieldCost, nodes: readonly FieldNode[]): { sliced: number | undefined; missing: boolean } {
  if (cost.slicingArguments.length === 0) return { sliced: undefined, missing: false };
  let sliced: number | undefined;
  let missing = false;
  for (const node of nodes) {
    let given = 0;
    for (const name of cost.slicingArguments) {
      const value = argumentValue(b, field, node, name);
      if (typeof value !== 'number') continue;
      given += 1;
      const size = Math.max(0, value);
      sliced = sliced === undefined ? size : Math.max(sliced, size);
    }
    if (cost.requireOneSlicingArgument && given !== 1) missing = true;
  }
  return { sliced, missing };
}

function treeFor(b: Build, types: readonly GraphQLObjectType[], nodes: readonly FieldNode[]): SelectionTree {
  let key = typeSetKey(b, types);
  for (const node of nodes) key += `,${nodeId(b, node)}`;
  const cached = b.trees.get(key);
  if (cached) return cached;

  const collected: Collected = new Map();
  const visited = new Set<string>();
  for (const node of nodes) if (node.selectionSet) collect(b, node.selectionSet, types, collected, visited);
  const tree: SelectionTree = { id: b.nextTreeId++, types, keys: collected.size === 0 ? [] : responseKeys(b, collected) };
  b.trees.set(key, tree);
  return tree;
}

/** The collected fields per response key, one slot per concrete parent type, each with its merged child tree. */
function responseKeys(b: Build, fields: Collected): ResponseKey[] {
  const { schema, index, costs } = b.input;
  const keys: ResponseKey[] = [];
  for (const [responseKey, entries] of fields) {
    // Per concrete parent type: the same response key may be Order.id or Product.id, and fragments on
    // types that cannot both apply may even use one alias for different fields (x: email / x: description).
    const byType = new Map<GraphQLObjectType, { name: string; nodes: FieldNode[] }>();
    for (const e of entries) {
      const name = e.node.name.value;
      for (const t of e.types) {
        if (!fieldDef(schema, t, name)) continue;
        let slot = byType.get(t);
        if (!slot) byType.set(t, (slot = { name, nodes: [] }));
        slot.nodes.push(e.node);
      }
    }
    const slots: FieldSlot[] = [];
    for (const [parent, { name, nodes: slotNodes }] of byType) {
      const field = fieldDef(schema, parent, name)!;
      const meta = name.startsWith('__');
      const returned = getNamedType(field.type);
      const childTypes = possibleTypes(schema, returned.name);
      const child = slotNodes.some((n) => n.selectionSet) ? treeFor(b, childTypes, slotNodes) : undefined;
      const cost = costs.field(parent, field);
      const { sliced, missing } = slicing(b, field, cost, slotNodes);
      const coordinate = `${parent.name}.${name}`;
      if (missing && b.slicingMissing === undefined) b.slicingMissing = coordinate;
      slots.push({
        responseKey,
        parent,
        fieldName: name,
        coordinate,
        requirement: meta || !index ? NO_REQUIREMENT : index.field(parent.name, name),
        meta,
        nodes: slotNodes,
        child,
        cost,
        sliced,
      });
    }
    if (slots.length > 0) keys.push({ key: responseKey, slots });
  }
  return keys;
}

/** Sums or maximises a per-slot measure over a tree: per concrete type the keys add up; the most expensive type counts. */
function perType(tree: SelectionTree, measure: (slot: FieldSlot) => number): number {
  if (tree.types.length <= 1) {
    let total = 0;
    for (const k of tree.keys) for (const s of k.slots) total += measure(s);
    return total;
  }
  const totals = new Map<GraphQLObjectType, number>();
  for (const k of tree.keys) for (const s of k.slots) totals.set(s.parent, (totals.get(s.parent) ?? 0) + measure(s));
  let max = 0;
  for (const v of totals.values()) if (v > max) max = v;
  return max;
}

/** Measures computed once per shared tree (memoised), so they cost what the document's size costs. */
class Measurer {
  readonly #memo = new Map<string, number>();
  readonly #requirement = new Map<number, Requirement>();

  #once(key: string, compute: () => number): number {
    let value = this.#memo.get(key);
    if (value === undefined) this.#memo.set(key, (value = compute()));
    return value;
  }

  /** Deepest field below and including the tree's own (introspection trees hold only introspection fields). */
  depth(tree: SelectionTree): number {
    return this.#once(`d${tree.id}`, () => {
      let d = 0;
      for (const k of tree.keys) for (const s of k.slots) d = Math.max(d, 1 + (s.child ? this.depth(s.child) : 0));
      return d;
    });
  }

  /** Most lists nested in one path. */
  lists(tree: SelectionTree): number {
    return this.#once(`l${tree.id}`, () => {
      let d = 0;
      for (const k of tree.keys) for (const s of k.slots) d = Math.max(d, (s.cost.list ? 1 : 0) + (s.child ? this.lists(s.child) : 0));
      return d;
    });
  }

  aliases(tree: SelectionTree): number {
    return this.#once(`a${tree.id}`, () => perType(tree, (s) => (s.nodes.some((n) => n.alias !== undefined) ? 1 : 0) + (s.child ? this.aliases(s.child) : 0)));
  }

  /** `sizes`: list sizes a parent's `@listSize(sizedFields:)` sets for fields of this tree. */
  cost(tree: SelectionTree, sizes: ReadonlyMap<string, number> | undefined): number {
    const key = sizes ? `c${tree.id}:${[...sizes].map(([f, n]) => `${f}=${n}`).join(',')}` : `c${tree.id}`;
    return this.#once(key, () =>
      perType(tree, (s) => {
        if (s.meta) return 0;
        let childSizes: Map<string, number> | undefined;
        if (s.cost.sizedFields.length > 0) {
          const size = s.sliced ?? s.cost.assumedSize ?? DEFAULT_LIST_SIZE;
          childSizes = new Map(s.cost.sizedFields.map((f) => [f, size]));
        }
        const one = s.cost.weight + (s.child ? this.cost(s.child, childSizes) : 0);
        if (!s.cost.list) return one;
        const size = s.cost.sizedFields.length === 0 && s.sliced !== undefined ? s.sliced : (sizes?.get(s.fieldName) ?? s.cost.assumedSize ?? DEFAULT_LIST_SIZE);
        return size * one;
      }),
    );
  }

  requirement(tree: SelectionTree): Requirement {
    let r = this.#requirement.get(tree.id);
    if (r !== undefined) return r;
    r = NO_REQUIREMENT;
    for (const k of tree.keys) {
      for (const s of k.slots) {
        r = combine(r, s.requirement);
        if (s.child) r = combine(r, this.requirement(s.child));
      }
    }
    this.#requirement.set(tree.id, r);
    return r;
  }
}

/**
 * Field selections with spreads expanded in place, honouring @skip/@include: memoised per
 * fragment, so linear in the document however often fragments spread each other.
 */
function expandedSelections(input: AnalyseInput): number {
  const memo = new Map<string, number>();
  const count = (selectionSet: SelectionSetNode | undefined): number => {
    if (!selectionSet) return 0;
    let total = 0;
    for (const s of selectionSet.selections) {
      if (!included(s, input.variables)) continue;
      if (s.kind === Kind.FIELD) total += 1 + count(s.selectionSet);
      else if (s.kind === Kind.INLINE_FRAGMENT) total += count(s.selectionSet);
      else {
        const name = s.name.value;
        let n = memo.get(name);
        if (n === undefined) {
          memo.set(name, 0); // a cycle (refused by validation) counts nothing
          n = count(input.fragments[name]?.selectionSet);
          memo.set(name, n);
        }
        total += n;
      }
    }
    return total;
  };
  return count(input.operation.selectionSet);
}

function isIntrospectionRoot(slot: FieldSlot): boolean {
  return slot.fieldName === SchemaMetaFieldDef.name || slot.fieldName === TypeMetaFieldDef.name;
}

const EMPTY_MEASURES: OperationMeasures = Object.freeze({
  depth: 0,
  aliases: 0,
  rootFields: 0,
  selections: 0,
  directivesPerField: 0,
  cost: 0,
  introspectionDepth: 0,
  introspectionListDepth: 0,
  introspectionFields: 0,
  slicingArgumentMissing: undefined,
});

/**
 * Analyses a validated operation with its coerced variables, before execution: the merged
 * selection trees (fragments, inline fragments on abstract types, aliases, `@skip`/`@include`),
 * what the whole operation requires, and what it would cost. Linear in the document's size:
 * each fragment is collected at most once per selection and type set, and shared trees are
 * measured once.
 */
export function analyseOperation(input: AnalyseInput): OperationAnalysis {
  const { schema, operation } = input;
  const rootType = schema.getRootType(operation.operation) ?? undefined;
  const b: Build = {
    input,
    trees: new Map(),
    nodeIds: new WeakMap(),
    typeSetIds: new Map(),
    nextNodeId: 0,
    nextTreeId: 0,
    visits: 0,
    directivesPerField: 0,
    slicingMissing: undefined,
  };
  if (!rootType) return { operationType: operation.operation, root: undefined, requirement: NO_REQUIREMENT, measures: EMPTY_MEASURES, visits: 0 };

  // The root selection is a tree of a synthetic field node whose selection set is the operation's.
  const rootNode: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '' }, selectionSet: operation.selectionSet };
  const root = treeFor(b, [rootType], [rootNode]);
  const m = new Measurer();

  let depth = 0;
  let introspectionDepth = 0;
  let introspectionListDepth = 0;
  let introspectionFields = 0;
  for (const k of root.keys) {
    for (const s of k.slots) {
      if (isIntrospectionRoot(s)) {
        introspectionFields += 1;
        introspectionDepth = Math.max(introspectionDepth, 1 + (s.child ? m.depth(s.child) : 0));
        introspectionListDepth = Math.max(introspectionListDepth, (s.cost.list ? 1 : 0) + (s.child ? m.lists(s.child) : 0));
      } else {
        depth = Math.max(depth, 1 + (s.child ? m.depth(s.child) : 0));
      }
    }
  }
  const cost = m.cost(root, undefined);
  const measures: OperationMeasures = {
    depth,
    aliases: m.aliases(root),
    rootFields: root.keys.length,
    selections: expandedSelections(input),
    directivesPerField: b.directivesPerField,
    cost,
    introspectionDepth,
    introspectionListDepth,
    introspectionFields,
    slicingArgumentMissing: b.slicingMissing,
  };
  return { operationType: operation.operation, root, requirement: m.requirement(root), measures, visits: b.visits };
}
