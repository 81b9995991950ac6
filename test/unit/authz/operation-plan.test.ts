import { describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import { applyAuthorization } from '../../../src/authz/authorization-transform.js';
import { authorizationDirectives } from '../../../src/authz/directives.js';
import { FieldGuard } from '../../../src/authz/field-guard.js';
import { coerceVariables, planOperation } from '../../../src/authz/operation-plan.js';

const sdl = `
  extend schema @scope(name: "read:orders", description: "r") @scope(name: "read:profile", description: "p") @scope(name: "write:orders", description: "w")
  interface Node { id: ID! }
  type Order implements Node @requiresScope(scope: "read:orders") { id: ID! total: Int customer: Profile @requiresScope(scope: "read:profile") }
  type Profile implements Node @requiresScope(scope: "read:profile") { id: ID! name: String }
  type Product implements Node { id: ID! name: String }
  union SearchResult = Order | Product
  type Query {
    node(id: ID!): Node @public
    search: [SearchResult!]! @public
    order(id: ID!): Order @requiresScope(scope: "read:orders")
    me: Profile @requiresScope(scope: "read:profile")
    products: [Product!]! @public
  }
  type Mutation {
    placeOrder: Order @requiresScope(scope: "write:orders")
    cancel: Boolean @requiresScope(scope: "write:orders")
  }
`;
const { schema, index } = applyAuthorization(makeExecutableSchema({ typeDefs: [authorizationDirectives, sdl] }));

function principal(scopes: string[]): Principal {
  return {
    kind: 'user', subject: 'u1', issuer: 'https://as.test', clientId: 'app', scopes: new Set(scopes), audience: ['api'],
    expiresAt: undefined, tokenId: undefined, acr: undefined, authTime: undefined, name: undefined,
  };
}

function plan(query: string, who: Principal, variables?: Record<string, unknown>) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  return planOperation({ schema, index, guard: new FieldGuard(who, 'filter'), operation, fragments, variables: coerceVariables(schema, operation, variables)! });
}

const deniedPaths = (p: ReturnType<typeof plan>) => p.denied.map((d) => `${d.path}@${d.coordinate}`).sort();

describe('operation plan (decided before execution)', () => {
  it('denies a root field and names it, allowing the public ones', () => {
    const p = plan('{ order(id: 1) { id } products { name } }', principal([]));
    expect(p.rootFields.map((r) => [r.responseKey, r.decision.allowed])).toEqual([['order', false], ['products', true]]);
    expect(deniedPaths(p)).toEqual(['order@Query.order']);
  });

  it('sees through named fragments and nested fragments', () => {
    const p = plan('query { me { ...P } } fragment P on Profile { ...Q } fragment Q on Profile { id name }', principal([]));
    expect(deniedPaths(p)).toEqual(['me@Query.me']);
    const q = plan('query { order(id: 1) { ...O } } fragment O on Order { id customer { ...Q } } fragment Q on Profile { name }', principal(['read:orders']));
    expect(deniedPaths(q)).toEqual(['order.customer@Order.customer']);
  });

  it('considers every concrete type behind an interface or union', () => {
    const p = plan('{ node(id: 1) { id ... on Order { total } ... on Product { name } } }', principal([]));
    expect(deniedPaths(p)).toEqual(['node.id@Order.id', 'node.id@Profile.id', 'node.total@Order.total']);
    // `id` is allowed on Product, so its denial depends on the runtime type; `total` exists only on Order.
    expect(p.denied.map((d) => [d.coordinate, d.conditional]).sort()).toEqual([['Order.id', true], ['Order.total', false], ['Profile.id', true]]);
    const s = plan('{ search { ... on Node { id } ... on Order { customer { id } } } }', principal(['read:orders']));
    expect(deniedPaths(s)).toEqual(['search.customer@Order.customer']);
  });

  it('denies each alias of a protected field (100 aliases → 100 denials)', () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: order(id: ${i}) { id }`).join(' ');
    const p = plan(`{ ${aliases} }`, principal([]));
    expect(p.denied).toHaveLength(100);
    expect(p.rootFields.every((r) => !r.decision.allowed)).toBe(true);
  });

  it('honours @skip and @include with the actual variables and defaults', () => {
    const q = 'query ($withOrder: Boolean!) { products { name } order(id: 1) @include(if: $withOrder) { id } }';
    expect(deniedPaths(plan(q, principal([]), { withOrder: false }))).toEqual([]);
    expect(deniedPaths(plan(q, principal([]), { withOrder: true }))).toEqual(['order@Query.order']);
    const d = 'query ($skip: Boolean = false) { me @skip(if: $skip) { id } }';
    expect(deniedPaths(plan(d, principal([])))).toEqual(['me@Query.me']);
    expect(deniedPaths(plan(d, principal([]), { skip: true }))).toEqual([]);
  });

  it('treats __typename and introspection as public', () => {
    const p = plan('{ __typename __schema { queryType { name } } }', ANONYMOUS);
    expect(p.rootFields).toEqual([]);
    expect(p.denied).toEqual([]);
  });

  it('names what the whole operation needs, every field combined', () => {
    const p = plan('{ order(id: 1) { id customer { name } } me { id } }', principal([]));
    expect(p.requirement.scopes).toEqual([['read:orders', 'read:profile']]);
  });

  it('marks a mutation root field as denied before any resolver runs', () => {
    const p = plan('mutation { placeOrder { id } cancel }', principal(['write:orders']));
    expect(p.rootFields.every((r) => r.decision.allowed)).toBe(true);
    expect(deniedPaths(p)).toEqual(['placeOrder.id@Order.id']);
    const q = plan('mutation { placeOrder { id } }', principal(['read:orders']));
    expect(q.rootFields[0]?.decision.allowed).toBe(false);
  });
});

describe('denial record (what the access line carries)', () => {
  it('lists the denied fields once per plan, frozen, and counts the unlisted', async () => {
    const { denialRecord } = await import('../../../src/authz/operation-decision.js');
    const p = plan('{ order(id: 1) { id } me { name } products { name } }', principal([]));
    const record = denialRecord(p, 'filter');
    expect(record).toEqual({
      dryRun: false,
      fields: [
        { path: 'order', field: 'Query.order', reason: 'insufficient_scope', missingScopes: ['read:orders'] },
        { path: 'me', field: 'Query.me', reason: 'insufficient_scope', missingScopes: ['read:profile'] },
      ],
      unlisted: 0,
    });
    expect(Object.isFrozen(record) && Object.isFrozen(record.fields) && Object.isFrozen(record.fields[0]) && Object.isFrozen(record.fields[0]!.missingScopes)).toBe(true);
    expect(denialRecord(p, 'filter')).toBe(record);
    expect(denialRecord(p, 'dry-run')).toMatchObject({ dryRun: true, fields: record.fields });
    const many = plan(`{ ${Array.from({ length: 105 }, (_, i) => `o${i}: order(id: ${i}) { id }`).join(' ')} }`, principal([]));
    expect(denialRecord(many, 'filter')).toMatchObject({ unlisted: 5 });
    expect(denialRecord(many, 'filter').fields).toHaveLength(100);
  });
});
