import { ApolloServer, type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

import { jitExecutionPlugin } from '../../../src/graphql/jit-executor.js';

/**
 * graphql-jit runs as Apollo Server's last `responseForOperation` hook. Every response here is
 * compared with the one Apollo gives for the same request with its own executor (graphql-js),
 * with the same `formatError`: data, errors, status and headers must be identical.
 */

interface Context {
  readonly calls: string[];
}

const typeDefs = /* GraphQL */ `
  type Query {
    hello(name: String!): String!
    item(id: Int!): Item
    items: [Item!]!
    internal: String
    teapot: String
    thrownString: String
    failsFormatting: String
    required: String!
    nested: Nested!
  }
  type Nested {
    required: String!
  }
  type Item {
    id: Int!
    label: String!
  }
  type Mutation {
    first(x: Int): Int!
    broken: Int
    last: Int!
  }
`;

const resolvers = {
  Query: {
    hello: (_: unknown, args: { name: string }, ctx: Context) => {
      ctx.calls.push('hello');
      return `hello ${args.name}`;
    },
    item: async (_: unknown, args: { id: number }) => (args.id > 0 ? { id: args.id, label: `item ${args.id}` } : null),
    items: async () => [1, 2, 3].map((id) => ({ id, label: `item ${id}` })),
    internal: () => {
      throw new Error('database password is hunter2');
    },
    teapot: () => {
      throw new GraphQLError('short and stout', { extensions: { code: 'TEAPOT', http: { status: 418, headers: new HeaderMap([['x-brew', 'tea']]) } } });
    },
    thrownString: () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a resolver that throws a non-Error value
      throw 'not an error';
    },
    failsFormatting: () => {
      throw new GraphQLError('format me', { extensions: { code: 'FORMAT_FAILS' } });
    },
    required: () => null,
    nested: () => ({}),
  },
  Nested: { required: async () => null },
  Mutation: {
    first: (_: unknown, __: unknown, ctx: Context) => {
      ctx.calls.push('first');
      return 1;
    },
    broken: (_: unknown, __: unknown, ctx: Context) => {
      ctx.calls.push('broken');
      throw new GraphQLError('broken', { extensions: { code: 'BROKEN' } });
    },
    last: async (_: unknown, __: unknown, ctx: Context) => {
      ctx.calls.push('last');
      return 3;
    },
  },
};

const schema = makeExecutableSchema({ typeDefs, resolvers });

/** Masks unexpected errors as the server does, and fails on one code to test a throwing formatter. */
function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (formatted.extensions?.['code'] === 'FORMAT_FAILS') throw new Error('formatter failed');
  if (formatted.extensions?.['code'] === 'INTERNAL_SERVER_ERROR') return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  return formatted;
}

interface Outcome {
  status: number | undefined;
  headers: [string, string][];
  body: unknown;
  calls: string[];
}

async function start(plugins: ApolloServerPlugin<Context>[]): Promise<ApolloServer<Context>> {
  const apollo = new ApolloServer<Context>({ schema, formatError, includeStacktraceInErrorResponses: false, plugins });
  await apollo.start();
  return apollo;
}

async function run(apollo: ApolloServer<Context>, request: { query: string; variables?: Record<string, unknown>; operationName?: string }): Promise<Outcome> {
  const calls: string[] = [];
  const response = await apollo.executeOperation(request, { contextValue: { calls } });
  if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
  return {
    status: response.http.status,
    headers: [...response.http.headers].filter(([name]) => name !== 'cache-control'),
    // As a client receives it (JSON drops undefined).
    body: JSON.parse(JSON.stringify(response.body.singleResult)) as unknown,
    calls,
  };
}

let js: ApolloServer<Context>;
let jit: ApolloServer<Context>;

beforeAll(async () => {
  js = await start([]);
  jit = await start([jitExecutionPlugin<Context>({ schema, formatError })]);
});

afterAll(async () => {
  await js.stop();
  await jit.stop();
});

const cases: [string, { query: string; variables?: Record<string, unknown>; operationName?: string }][] = [
  ['plain data', { query: '{ hello(name: "a") items { id label } item(id: 2) { label } missing: item(id: 0) { id } }' }],
  ['variables', { query: 'query Q($n: String!, $i: Int!) { hello(name: $n) item(id: $i) { id } }', variables: { n: 'b', i: 5 } }],
  ['an unexpected error, masked by formatError', { query: '{ hello(name: "a") internal }' }],
  ['an error carrying an HTTP status and header', { query: '{ teapot hello(name: "x") }' }],
  ['a thrown non-Error value', { query: '{ thrownString }' }],
  ['a formatError that throws', { query: '{ failsFormatting hello(name: "y") }' }],
  ['a null non-null root field (data null)', { query: '{ hello(name: "a") required }' }],
  ['a null non-null nested field', { query: '{ hello(name: "a") nested { required } }' }],
  ['a variable that fails coercion', { query: 'query Q($n: String!) { hello(name: $n) }', variables: { n: 42 } }],
  ['a missing required variable', { query: 'query Q($n: String!) { hello(name: $n) }', variables: {} }],
  ['an unknown operation name', { query: 'query A { hello(name: "a") } query B { hello(name: "b") }', operationName: 'C' }],
  ['one of several operations', { query: 'query A { hello(name: "a") } query B { hello(name: "b") }', operationName: 'B' }],
  ['mutation fields in order, one failing', { query: 'mutation { first broken last }' }],
  [
    'introspection (what Sandbox asks)',
    { query: '{ __typename __schema { queryType { name } mutationType { name } types { name kind } } __type(name: "Item") { fields { name type { kind name ofType { kind name } } } } }' },
  ],
];

describe('graphql-jit execution plugin', () => {
  it.each(cases)('answers like Apollo executing with graphql-js: %s', async (_name, request) => {
    const expected = await run(js, request);
    const actual = await run(jit, request);
    expect(actual).toEqual(expected);
  });

  it('formats an error whose cause has no extensions as graphql-js does, path included, and reports it before formatting', async () => {
    const identity = (formatted: GraphQLFormattedError) => formatted;
    const seen: unknown[] = [];
    const plainJs = new ApolloServer<Context>({ schema, formatError: identity, includeStacktraceInErrorResponses: false });
    const plainJit = new ApolloServer<Context>({
      schema,
      formatError: identity,
      includeStacktraceInErrorResponses: false,
      plugins: [jitExecutionPlugin<Context>({ schema, formatError: identity, didEncounterErrors: (errors) => void seen.push(...errors) })],
    });
    await plainJs.start();
    await plainJit.start();
    try {
      const request = { query: '{ hello(name: "a") internal }' };
      const actual = await run(plainJit, request);
      expect(actual).toEqual(await run(plainJs, request));
      expect(actual.body).toMatchObject({ errors: [{ path: ['internal'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      expect(seen).toHaveLength(1);
      expect((seen[0] as GraphQLError).originalError?.message).toBe('database password is hunter2');
    } finally {
      await plainJs.stop();
      await plainJit.stop();
    }
  });

  it('runs each resolver once, and mutation fields serially', async () => {
    expect((await run(jit, { query: '{ a: hello(name: "a") b: hello(name: "b") }' })).calls).toEqual(['hello', 'hello']);
    expect((await run(jit, { query: 'mutation { first broken last }' })).calls).toEqual(['first', 'broken', 'last']);
  });

  it('leaves a request that fails variable coercion to Apollo: nothing executes, 400 BAD_USER_INPUT', async () => {
    const outcome = await run(jit, { query: 'mutation M($x: Int!) { first(x: $x) }', variables: { x: 'nope' } });
    expect(outcome.calls).toEqual([]);
    expect(outcome.status).toBe(400);
    expect(outcome.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('hands an operation graphql-jit cannot compile to Apollo’s executor', async () => {
    // A variant schema without a mutation type: compiling a mutation against it fails, Apollo's executor answers.
    const partial = makeExecutableSchema({ typeDefs: 'type Query { other: String }' });
    const apollo = await start([jitExecutionPlugin<Context>({ schema, formatError, schemaFor: () => ({ key: 'partial', schema: partial }) })]);
    try {
      const outcome = await run(apollo, { query: 'mutation { first last }' });
      expect(outcome.body).toEqual({ data: { first: 1, last: 3 } });
      expect(outcome.calls).toEqual(['first', 'last']);
    } finally {
      await apollo.stop();
    }
  });

  it('compiles per schema variant: each variant’s resolvers run for its callers', async () => {
    const shouting = makeExecutableSchema({ typeDefs, resolvers: { ...resolvers, Query: { ...resolvers.Query, hello: (_: unknown, args: { name: string }) => `HELLO ${args.name}` } } });
    const apollo = await start([
      jitExecutionPlugin<Context>({ schema, formatError, schemaFor: (context) => (context.calls.length === 0 ? undefined : { key: 'shouting', schema: shouting }) }),
    ]);
    try {
      const query = '{ hello(name: "v") }';
      const plain = await apollo.executeOperation({ query }, { contextValue: { calls: [] } });
      const loud = await apollo.executeOperation({ query }, { contextValue: { calls: ['marker'] } });
      const plainAgain = await apollo.executeOperation({ query }, { contextValue: { calls: [] } });
      const data = (r: typeof plain) => (r.body.kind === 'single' ? r.body.singleResult.data : undefined);
      expect([data(plain), data(loud), data(plainAgain)]).toEqual([{ hello: 'hello v' }, { hello: 'HELLO v' }, { hello: 'hello v' }]);
    } finally {
      await apollo.stop();
    }
  });

  it('lets an earlier plugin’s answer stand', async () => {
    const answered: ApolloServerPlugin<Context> = {
      async requestDidStart() {
        return { async responseForOperation() { return { http: { status: 403, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: [{ message: 'no' }] } } }; } };
      },
    };
    const apollo = await start([answered, jitExecutionPlugin<Context>({ schema, formatError })]);
    try {
      const outcome = await run(apollo, { query: '{ hello(name: "a") }' });
      expect(outcome).toMatchObject({ status: 403, body: { errors: [{ message: 'no' }] }, calls: [] });
    } finally {
      await apollo.stop();
    }
  });
});
