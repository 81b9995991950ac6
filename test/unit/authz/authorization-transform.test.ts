import { describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type ExecutionResult, type GraphQLObjectType, type GraphQLSchema, execute, parse } from 'graphql';
import { ANONYMOUS, type Principal, type UserPrincipal } from '../../../src/auth/principal.js';
import { SchemaAuthorizationError } from '../../../src/authz/authorization-index.js';
import { applyAuthorization, specializeForPrincipal } from '../../../src/authz/authorization-transform.js';
import { authorizationDirectives } from '../../../src/authz/directives.js';
import { FieldGuard } from '../../../src/authz/field-guard.js';
import { principalSchemas } from '../../../src/authz/principal-schemas.js';

const catalog = 'extend schema @scope(name: "a", description: "A") @scope(name: "b", description: "B") @scope(name: "c", description: "C")';

function user(scopes: string[], kind: 'user' | 'client' = 'user'): Principal {
  const p: UserPrincipal = {
    kind: 'user', subject: 'u1', issuer: 'https://as.test', clientId: 'app', scopes: new Set(scopes), audience: ['api'],
    expiresAt: undefined, tokenId: undefined, acr: undefined, authTime: undefined, name: undefined,
  };
  return kind === 'user' ? p : { ...p, kind: 'client' };
}

function build(sdl: string, calls: string[] = [], options: { denyByDefault?: boolean } = { denyByDefault: false }) {
  const resolve = (name: string, value: unknown) => () => {
    calls.push(name);
    return value;
  };
  const schema = makeExecutableSchema({
    typeDefs: [authorizationDirectives, catalog, sdl],
    resolvers: {
      Query: { thing: resolve('Query.thing', { id: '1', secret: 's', open: 'o' }), open: resolve('Query.open', 'o'), node: resolve('Query.node', { __typename: 'Thing', id: '1', secret: 's', open: 'o' }) },
      Thing: { secret: resolve('Thing.secret', 's') },
    },
    resolverValidationOptions: { requireResolversToMatchSchema: 'ignore' },
  });
  return applyAuthorization(schema, options);
}

async function run(schema: ReturnType<typeof build>['schema'], query: string, principal: Principal): Promise<ExecutionResult> {
  return execute({ schema, document: parse(query), contextValue: { principal, guard: new FieldGuard(principal, 'filter') } });
}

describe('@requiresScope as a schema transform', () => {
  const sdl = `
    type Query { thing: Thing @requiresScope(scope: "a") open: String @public }
    type Thing @requiresScope(scope: "a") { id: ID! open: String secret: String @requiresScope(scope: "b") @requiresScope(scope: "c") }`;

  it('applies a type requirement to every field of the type', async () => {
    const r = await run(build(sdl).schema, '{ thing { open } }', user(['b', 'c']));
    expect(r.data).toEqual({ thing: null });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['a'], missingScopes: ['a'] });
  });

  it('adds a field requirement to its type requirement, and a repeated directive needs all', async () => {
    const calls: string[] = [];
    const { schema } = build(sdl, calls);
    const partial = await run(schema, '{ thing { open secret } }', user(['a', 'b']));
    expect(partial.data).toEqual({ thing: { open: 'o', secret: null } });
    expect(partial.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['a', 'b', 'c'], missingScopes: ['c'] });
    expect(partial.errors?.[0]?.path).toEqual(['thing', 'secret']);
    expect(calls).not.toContain('Thing.secret');
    const full = await run(schema, '{ thing { secret } }', user(['a', 'b', 'c']));
    expect(full.data).toEqual({ thing: { secret: 's' } });
    expect(calls).toContain('Thing.secret');
  });

  it('answers UNAUTHENTICATED without a token and never runs the resolver', async () => {
    const calls: string[] = [];
    const r = await run(build(sdl, calls).schema, '{ thing { id } open }', ANONYMOUS);
    expect(r.data).toEqual({ thing: null, open: 'o' });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', requiredScopes: ['a'] });
    expect(calls).toEqual(['Query.open']);
  });

  it('accepts any one of anyOf', async () => {
    const { schema } = build(`type Query { open: String @requiresScope(anyOf: ["a", "b"]) }`);
    expect((await run(schema, '{ open }', user(['b']))).data).toEqual({ open: 'o' });
    const denied = await run(schema, '{ open }', user(['c']));
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', acceptedScopeSets: [['a'], ['b']] });
  });

  it('applies an interface requirement and an interface field requirement to every implementation', async () => {
    const { schema, index } = build(`
      interface Node @requiresScope(scope: "a") { id: ID! secret: String @requiresScope(scope: "b") }
      type Thing implements Node { id: ID! secret: String open: String }
      type Query { node: Node @public }`);
    expect(index.field('Thing', 'open').scopes).toEqual([['a']]);
    expect(index.field('Thing', 'secret').scopes).toEqual([['a', 'b']]);
    const r = await run(schema, '{ node { id ... on Thing { secret } } }', user(['a']));
    expect(r.data).toEqual({ node: { id: '1', secret: null } });
  });

  it('understands Apollo Federation @requiresScopes (OR of ANDs) and @authenticated with the same meaning', async () => {
    const { schema } = build(`type Query { open: String @requiresScopes(scopes: [["a", "b"], ["c"]]) thing: Thing @authenticated }
      type Thing { id: ID! }`);
    expect((await run(schema, '{ open }', user(['a']))).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', acceptedScopeSets: [['c'], ['a', 'b']] });
    expect((await run(schema, '{ open }', user(['a', 'b']))).data).toEqual({ open: 'o' });
    expect((await run(schema, '{ open }', user(['c']))).data).toEqual({ open: 'o' });
    expect((await run(schema, '{ thing { id } }', user([]))).data).toEqual({ thing: { id: '1' } });
    expect((await run(schema, '{ thing { id } }', ANONYMOUS)).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses client tokens on @requiresUser fields', async () => {
    const { schema } = build(`type Query { open: String @requiresScope(scope: "a") @requiresUser }`);
    expect((await run(schema, '{ open }', user(['a'], 'client'))).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'user_required' });
    expect((await run(schema, '{ open }', user(['a']))).data).toEqual({ open: 'o' });
  });

  it('writes the requirement into the field description for Sandbox and introspection', () => {
    const { schema } = build(sdl);
    expect(schema.getType('Thing')?.toConfig()).toBeDefined();
    const field = (schema.getType('Thing') as import('graphql').GraphQLObjectType).getFields()['secret'];
    expect(field?.description).toContain('Requires: a AND b AND c');
  });

  describe('start-up checks', () => {
    it('fails on a scope that is not declared, naming the field', () => {
      expect(() => build(`type Query { open: String @requiresScope(scope: "read:order") }`)).toThrow(SchemaAuthorizationError);
      try {
        build(`type Query { open: String @requiresScope(scope: "read:order") }`);
      } catch (e) {
        expect((e as SchemaAuthorizationError).coordinate).toBe('Query.open');
      }
    });

    it('fails, in deny-by-default mode, on a root field with no requirement and no @public', () => {
      let error: unknown;
      try {
        build(`type Query { open: String thing: Thing @public } type Thing { id: ID }`, [], { denyByDefault: true });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SchemaAuthorizationError);
      expect((error as SchemaAuthorizationError).coordinate).toBe('Query.open');
    });

    it('fails when an implementation declares a weaker requirement than its interface field', () => {
      let error: unknown;
      try {
        build(`interface Node { id: ID! secret: String @requiresScope(scope: "b") }
          type Thing implements Node { id: ID! secret: String @requiresScope(scope: "a") }
          type Query { node: Node @public }`);
      } catch (e) {
        error = e;
      }
      expect((error as SchemaAuthorizationError).coordinate).toBe('Thing.secret');
      expect(() =>
        build(`interface Node { id: ID! secret: String @requiresScope(scope: "b") }
          type Thing implements Node { id: ID! secret: String @requiresScope(scope: "b") @requiresScope(scope: "a") }
          type Query { node: Node @public }`),
      ).not.toThrow();
    });

    describe('connections', () => {
      const connection = (connectionDirectives: string, edgeDirectives: string) => `
        type Thing @requiresScope(scope: "a") { id: ID! }
        type PageInfo { hasNextPage: Boolean! }
        type ThingConnection ${connectionDirectives} { edges: [ThingEdge!]! pageInfo: PageInfo! }
        type ThingEdge ${edgeDirectives} { cursor: String! node: Thing! }
        type Query { things: ThingConnection! @requiresScope(scope: "b") open: String @public }`;
      const failure = (sdl: string): SchemaAuthorizationError => {
        try {
          build(sdl);
        } catch (e) {
          return e as SchemaAuthorizationError;
        }
        throw new Error('expected start-up to fail');
      };

      it('fails when a connection type is weaker than its node type, naming the connection, its edge and the node', () => {
        const error = failure(connection('', '@requiresScope(scope: "a")'));
        expect(error).toBeInstanceOf(SchemaAuthorizationError);
        expect(error.coordinate).toBe('ThingConnection');
        expect(error.message).toContain('ThingEdge');
        expect(error.message).toContain('Thing ');
      });

      it('fails when an edge type is weaker than its node type', () => {
        expect(failure(connection('@requiresScope(scope: "a")', '')).coordinate).toBe('ThingEdge');
        // A different scope is no substitute for the node's.
        expect(failure(connection('@requiresScope(scope: "a")', '@requiresScope(scope: "b")')).coordinate).toBe('ThingEdge');
        // Alternatives that let a caller without the node's scope through are weaker too.
        expect(failure(connection('@requiresScope(anyOf: ["a", "c"])', '@requiresScope(scope: "a")')).coordinate).toBe('ThingConnection');
      });

      it('recognises a connection by its shape, whatever its name, through an interface node and nullable lists', () => {
        const error = failure(`
          interface Secret @requiresScope(scope: "a") { id: ID! }
          type Thing implements Secret { id: ID! }
          type Hit { node: Secret }
          type Listing { edges: [Hit] }
          type Query { listing: Listing @public }`);
        expect(error.coordinate).toBe('Listing');
      });

      it('accepts a connection as strict as its node type, and a public connection of a public node', () => {
        expect(() => build(connection('@requiresScope(scope: "a")', '@requiresScope(scope: "a")'))).not.toThrow();
        expect(() => build(connection('@requiresScope(scope: "a") @requiresScope(scope: "c")', '@requiresScope(scope: "a")'))).not.toThrow();
        expect(() =>
          build(`type Item { id: ID! } type ItemEdge { cursor: String! node: Item! } type ItemConnection { edges: [ItemEdge!]! }
            type Query { items: ItemConnection! @public }`),
        ).not.toThrow();
      });

      it('gives every field of the connection and the edge the node requirement, and a field returning the connection too', async () => {
        const { schema, index } = build(connection('@requiresScope(scope: "a")', '@requiresScope(scope: "a")'));
        expect(index.field('Query', 'things').scopes).toEqual([['a', 'b']]);
        expect(index.field('ThingConnection', 'pageInfo').scopes).toEqual([['a']]);
        expect(index.field('ThingEdge', 'cursor').scopes).toEqual([['a']]);
        const r = await run(schema, '{ things { pageInfo { hasNextPage } } }', user(['b']));
        expect(r.data).toBeNull();
        expect(r.errors?.[0]).toMatchObject({ path: ['things'], extensions: { code: 'FORBIDDEN', requiredScopes: ['a', 'b'], missingScopes: ['a'] } });
      });
    });

    it('fails on @requiresScope with neither or both arguments', () => {
      expect(() => build(`type Query { open: String @requiresScope }`)).toThrow(SchemaAuthorizationError);
      expect(() => build(`type Query { open: String @requiresScope(scope: "a", anyOf: ["b"]) }`)).toThrow(SchemaAuthorizationError);
    });
  });
});

describe('specializeForPrincipal: the guarded schema for one kind and scope set', () => {
  const sdl = `
    type Query { thing: Thing @requiresScope(scope: "a") open: String @public }
    type Thing @requiresScope(scope: "a") { id: ID! open: String secret: String @requiresScope(scope: "b") @requiresUser }`;
  const fieldsOf = (schema: GraphQLSchema) => (schema.getType('Thing') as GraphQLObjectType).getFields();

  it('gives every field the caller may read its own resolver back, and keeps the guard on every other', () => {
    const { schema } = build(sdl);
    const guarded = fieldsOf(schema);
    const forA = fieldsOf(specializeForPrincipal(schema, user(['a'])));
    expect(forA['open']!.resolve).toBeUndefined(); // default-resolved again: graphql-jit reads it inline
    expect(forA['secret']!.resolve).toBe(guarded['secret']!.resolve); // still the guard
    const forAB = fieldsOf(specializeForPrincipal(schema, user(['a', 'b'])));
    expect(forAB['secret']!.resolve).not.toBe(guarded['secret']!.resolve);
    expect(forAB['secret']!.resolve).toBeDefined(); // Thing.secret's own resolver
    const client = fieldsOf(specializeForPrincipal(schema, user(['a', 'b'], 'client')));
    expect(client['secret']!.resolve).toBe(guarded['secret']!.resolve); // @requiresUser: still guarded
    const anonymous = fieldsOf(specializeForPrincipal(schema, ANONYMOUS));
    for (const name of ['id', 'open', 'secret']) expect(anonymous[name]!.resolve).toBe(guarded[name]!.resolve);
  });

  it('answers exactly as the guarded schema, for callers allowed and denied', async () => {
    const calls: string[] = [];
    const { schema } = build(sdl, calls);
    const query = '{ thing { id open secret } open }';
    for (const principal of [user(['a']), user(['a', 'b']), user(['a', 'b'], 'client'), user(['b']), ANONYMOUS]) {
      const expected = await run(schema, query, principal);
      const guardedCalls = calls.splice(0);
      const actual = await run(specializeForPrincipal(schema, principal), query, principal);
      expect(JSON.parse(JSON.stringify(actual))).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(calls.splice(0)).toEqual(guardedCalls); // a denied field's resolver never runs here either
    }
  });
});

describe('principalSchemas', () => {
  it('builds one schema per kind and scope set, and none past its bound', () => {
    const { schema } = build('type Query { thing: Thing @requiresScope(scope: "a") } type Thing @requiresScope(scope: "a") { id: ID! }');
    const schemaFor = principalSchemas(schema, { maxShapes: 2 });
    const first = schemaFor(user(['a', 'b']));
    expect(schemaFor(user(['b', 'a']))).toBe(first); // the same shape, scopes in another order
    expect(schemaFor(user(['a', 'b'], 'client'))).not.toBe(first);
    expect(schemaFor(user(['c']))).toBeUndefined(); // a third shape: the fully guarded schema
    expect(schemaFor(user(['a', 'b']))).toBe(first);
  });
});
