import { describe, expect, it } from '@jest/globals';
import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, getIntrospectionQuery, parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { costDirectives, costIndexFor } from '../../../src/authz/cost-directives.js';
import { checkLimits } from '../../../src/authz/operation-limits.js';
import { DEFAULT_OPERATION_LIMITS } from '../../../src/config.js';
import { analyseOperation } from '../../../src/authz/operation-analysis.js';
import { buildSchema } from '../../../src/graphql/schema.js';

const { schema, index } = buildSchema();

function analyse(source: string, variables: Record<string, unknown> = {}) {
  const document = parse(source, { noLocation: true });
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  return { analysis: analyseOperation({ schema, index, costs: costIndexFor(schema), operation, fragments, variables }), size: source.length };
}

function fanOut(levels: number, aliases = 0): string {
  const fragments = Array.from({ length: levels }, (_, i) =>
    `fragment F${i} on Query { products(first: 1) { edges { node { id } } } ${i < levels - 1 ? `...F${i + 1} ...F${i + 1}` : ''} }`,
  );
  const aliased = Array.from({ length: aliases }, (_, i) => `a${i}: __typename`).join(' ');
  return `{ ...F0 ${aliased} } ${fragments.join(' ')}`;
}

describe('operation analysis is linear in the document', () => {
  it('visits each fragment once per selection and type set: the fan-out of 30 levels and 100,000 aliases', () => {
    const { analysis, size } = analyse(fanOut(30, 100_000));
    // Counted work, not time: each selection of the document is visited a bounded number of times.
    expect(analysis.visits).toBeLessThan(size / 4);
    expect(analysis.measures).toMatchObject({ aliases: 100_000, rootFields: 100_001, selections: 4 * (2 ** 30 - 1) + 100_000 });
  });

  it('grows the work linearly when levels are added (the naive expansion doubles per level)', () => {
    const at = (levels: number) => analyse(fanOut(levels)).analysis.visits;
    expect(at(20) - at(10)).toBe(at(30) - at(20));
  });

  it('shares the trees of a fragment spread under many aliases: the analysis stays linear while the response would not', () => {
    const level = (i: number, last: boolean) =>
      `fragment P${i} on Profile { a: orders(first: 1) { edges { node { customer { ${last ? 'id' : `...P${i + 1}`} } } } } b: orders(first: 1) { edges { node { customer { ${last ? 'id' : `...P${i + 1}`} } } } } }`;
    const doc = `{ me { ...P0 } } ${Array.from({ length: 25 }, (_, i) => level(i, i === 24)).join(' ')}`;
    const { analysis } = analyse(doc);
    expect(analysis.visits).toBeLessThan(25 * 20);
    expect(analysis.measures.aliases).toBe(2 ** 26 - 2);
    expect(analysis.measures.depth).toBe(2 + 25 * 4);
  });
});

describe('operation measures', () => {
  it('counts __typename aliases', () => {
    expect(analyse('{ a: __typename b: __typename c: __typename }').analysis.measures).toMatchObject({ aliases: 3, rootFields: 3, cost: 0 });
  });

  it('reads first: $n from the variables, and a connection sizes its edges', () => {
    const q = 'query Q($n: Int) { products(first: $n) { edges { node { price { amount } } } } }';
    // products 1 + n × (edge 1 + product 1 + price 1)
    expect(analyse(q, { n: 7 }).analysis.measures.cost).toBe(1 + 7 * 3);
    expect(analyse(q, {}).analysis.measures.cost).toBe(1 + 20 * 3); // the argument's default
  });

  it('applies @skip/@include with the actual variables', () => {
    const q = 'query Q($deep: Boolean!) { me { displayName orders @include(if: $deep) { edges { node { id } } } } }';
    expect(analyse(q, { deep: false }).analysis.measures).toMatchObject({ depth: 2, cost: 1 });
    expect(analyse(q, { deep: true }).analysis.measures).toMatchObject({ depth: 5 });
  });

  it('takes the most expensive possible type of an abstract selection', () => {
    const q = '{ node(id: "x") { ... on Order { items { product { name } } } ... on Product { price { amount } } } }';
    // node 1 + Order: 50 assumed items × (item 1 + product 1)
    expect(analyse(q).analysis.measures.cost).toBe(1 + 50 * 2);
  });

  it("measures Sandbox's introspection query apart from the rest", () => {
    const m = analyse(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true })).analysis.measures;
    expect(m).toMatchObject({ depth: 0, cost: 0, introspectionFields: 1, introspectionListDepth: 3 });
    expect(m.introspectionDepth).toBeLessThanOrEqual(18);
  });
});

describe('required slicing arguments (@listSize requireOneSlicingArgument, default true)', () => {
  const sdl = `
    type Item { id: ID! }
    type Query {
      items(first: Int, last: Int): [Item!]! @listSize(slicingArguments: ["first", "last"])
    }`;
  const inline = makeExecutableSchema({ typeDefs: [costDirectives, sdl] });
  const measure = (source: string) => {
    const operation = parse(source).definitions[0] as OperationDefinitionNode;
    return analyseOperation({ schema: inline, costs: costIndexFor(inline), operation, fragments: {}, variables: {} }).measures;
  };

  it('refuses a list field given none, or both, of its slicing arguments', () => {
    for (const q of ['{ items { id } }', '{ items(first: 1, last: 1) { id } }']) {
      expect(measure(q).slicingArgumentMissing).toBe('Query.items');
      expect(checkLimits(measure(q), DEFAULT_OPERATION_LIMITS)).toEqual([expect.objectContaining({ code: 'SLICING_ARGUMENT_REQUIRED' })]);
    }
  });

  it('accepts exactly one, and sizes the list by it', () => {
    const m = measure('{ items(last: 4) { id } }');
    expect(m.slicingArgumentMissing).toBeUndefined();
    expect(m.cost).toBe(4);
    expect(checkLimits(m, DEFAULT_OPERATION_LIMITS)).toEqual([]);
  });
});

describe('cost annotations declared on an interface field', () => {
  const sdl = `
    interface Listing { items(first: Int): [Item!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false) heavy: Int @cost(weight: 50) }
    type Item { id: ID! }
    type Shop implements Listing { items(first: Int): [Item!]! heavy: Int }
    type Outlet implements Listing { items(first: Int): [Item!]! @listSize(assumedSize: 3) heavy: Int @cost(weight: 2) }
    type Query { shop: Shop outlet: Outlet listing: Listing }`;
  const inline = makeExecutableSchema({ typeDefs: [costDirectives, sdl], resolverValidationOptions: { requireResolversToMatchSchema: 'ignore' } });
  const cost = (source: string) => {
    const operation = parse(source).definitions[0] as OperationDefinitionNode;
    return analyseOperation({ schema: inline, costs: costIndexFor(inline), operation, fragments: {}, variables: {} }).measures.cost;
  };

  it('apply to an implementing type that does not declare its own', () => {
    // Sized by first (10,000 items + the shop), not by the default list size.
    expect(cost('{ shop { items(first: 10000) { id } } }')).toBe(cost('{ listing { items(first: 10000) { id } } }'));
    expect(cost('{ shop { items(first: 10000) { id } } }')).toBeGreaterThanOrEqual(10_000);
    expect(cost('{ shop { heavy } }')).toBe(cost('{ listing { heavy } }'));
    expect(cost('{ shop { heavy } }')).toBeGreaterThanOrEqual(50);
  });

  it('give way to the implementing type\'s own', () => {
    expect(cost('{ outlet { items(first: 10000) { id } } }')).toBeLessThan(100);
    expect(cost('{ outlet { heavy } }')).toBeLessThan(50);
  });
});
