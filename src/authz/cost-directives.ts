import { getDirective } from '@graphql-tools/utils';
import { type GraphQLField, type GraphQLNamedType, type GraphQLSchema, getNamedType, isCompositeType, isIntrospectionType, isListType, isNonNullType, isObjectType, isInterfaceType, type GraphQLOutputType } from 'graphql';
import { gql } from 'graphql-tag';

/**
 * The cost directives of the IBM GraphQL Cost Directive specification, as Apollo's demand control
 * reads them. Add them to your type definitions; the operation limits read them at start-up.
 */
export const costDirectives = gql`
"""
The weight of a field or of every field returning the type (IBM cost specification). Default:
1 for fields returning an object, interface or union; 0 for scalars and enums.
"""
directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR

"""
The size of the list a field returns (IBM cost specification): \`assumedSize\`, or the value of
the slicing argument (\`first\`) the operation passes; \`sizedFields\` names the fields of the
returned type that the size applies to (a connection's \`edges\`).
"""
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
`;

/** Size assumed for a list field that has no `@listSize` and no sizing parent. */
export const DEFAULT_LIST_SIZE = 10;

/** How one field is costed, resolved once at start-up. */
export interface FieldCost {
  /** Cost of one value of the field (before list multiplication). */
  readonly weight: number;
  /** The field returns a list (at any nesting). */
  readonly list: boolean;
  readonly assumedSize: number | undefined;
  /** Arguments whose value is the list's size (the largest given one counts). */
  readonly slicingArguments: readonly string[];
  /** Fields of the returned type whose lists have this field's size. */
  readonly sizedFields: readonly string[];
  readonly requireOneSlicingArgument: boolean;
}

/** Cost annotations of a schema, read once. */
export interface CostIndex {
  field(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>): FieldCost;
  /** Every argument name used as a slicing argument anywhere (to key analyses by their variables). */
  readonly slicingArgumentNames: ReadonlySet<string>;
}

type DirectableNode = Parameters<typeof getDirective>[1];

function weightOf(schema: GraphQLSchema, node: DirectableNode): number | undefined {
  const args = getDirective(schema, node, 'cost')?.[0];
  const weight: unknown = args?.['weight'];
  return typeof weight === 'number' ? weight : undefined;
}

/** The first defined value of `read` over `fields`, in order. */
function firstOf<T>(fields: readonly GraphQLField<unknown, unknown>[], read: (field: GraphQLField<unknown, unknown>) => T | undefined): T | undefined {
  for (const field of fields) {
    const value = read(field);
    if (value !== undefined) return value;
  }
  return undefined;
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** Reads `@cost` and `@listSize` for every field of the schema. */
export function buildCostIndex(schema: GraphQLSchema): CostIndex {
  const fields = new Map<string, FieldCost>();
  const slicingArgumentNames = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      // An implementing type's field without annotations of its own takes its interfaces' (the
      // analysis costs the concrete types, so an interface's would otherwise never count).
      const declared = [field, ...type.getInterfaces().map((i) => i.getFields()[field.name]).filter((f) => f !== undefined)];
      const weight = firstOf(declared, (f) => weightOf(schema, f)) ?? weightOf(schema, returned) ?? (isCompositeType(returned) ? 1 : 0);
      const listSize = firstOf(declared, (f) => getDirective(schema, f, 'listSize')?.[0]);
      const slicing = (listSize?.['slicingArguments'] as string[] | undefined) ?? [];
      for (const name of slicing) {
        if (!field.args.some((a) => a.name === name)) throw new Error(`${type.name}.${field.name}: @listSize slicing argument "${name}" is not an argument of the field`);
        slicingArgumentNames.add(name);
      }
      fields.set(`${type.name}.${field.name}`, {
        weight,
        list: isList(field.type),
        assumedSize: listSize?.['assumedSize'] as number | undefined,
        slicingArguments: slicing,
        sizedFields: (listSize?.['sizedFields'] as string[] | undefined) ?? [],
        requireOneSlicingArgument: slicing.length > 0 && listSize?.['requireOneSlicingArgument'] !== false,
      });
    }
  }
  const fallback = new Map<GraphQLField<unknown, unknown>, FieldCost>();
  return {
    slicingArgumentNames,
    field(parent, field) {
      let cost = fields.get(`${parent.name}.${field.name}`);
      if (cost === undefined) {
        // Introspection and meta fields: not costed (they have limits of their own).
        cost = fallback.get(field);
        if (cost === undefined) {
          cost = { weight: 0, list: isList(field.type), assumedSize: undefined, slicingArguments: [], sizedFields: [], requireOneSlicingArgument: false };
          fallback.set(field, cost);
        }
      }
      return cost;
    },
  };
}

const indexes = new WeakMap<GraphQLSchema, CostIndex>();

/** {@link buildCostIndex}, once per schema object. */
export function costIndexFor(schema: GraphQLSchema): CostIndex {
  let index = indexes.get(schema);
  if (index === undefined) indexes.set(schema, (index = buildCostIndex(schema)));
  return index;
}
