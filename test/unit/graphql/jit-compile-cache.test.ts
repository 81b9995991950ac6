import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { describe, expect, it, jest } from '@jest/globals';

// Count compilations by wrapping graphql-jit's compileQuery before the plugin imports it.
const jit = await import('graphql-jit');
const compileQuery = jest.fn(jit.compileQuery);
jest.unstable_mockModule('graphql-jit', () => ({ ...jit, compileQuery }));

const { jitExecutionPlugin } = await import('../../../src/graphql/jit-executor.js');

interface Context {
  readonly shape: string;
}

const schema = makeExecutableSchema({
  typeDefs: 'type Query { hello(name: String!): String! }',
  resolvers: { Query: { hello: (_: unknown, { name }: { name: string }) => `hello ${name}` } },
});

describe('jit compile cache', () => {
  it('keeps at most maxCompiled operations over all documents and schema variants, dropping the least recently used documents whole', async () => {
    const shapes = ['a', 'b', 'c'].map((key) => ({ key, schema }));
    const plugin = jitExecutionPlugin<Context>({ schema, maxCompiled: 4, schemaFor: (context) => shapes.find((shape) => shape.key === context.shape) });
    const apollo = new ApolloServer<Context>({ schema, plugins: [plugin] });
    await apollo.start();
    const compiles = async (query: string, shape: string): Promise<number> => {
      const before = compileQuery.mock.calls.length;
      const response = await apollo.executeOperation({ query }, { contextValue: { shape } });
      expect(response.body.kind === 'single' ? response.body.singleResult : undefined).toEqual({ data: { hello: expect.stringMatching(/^hello /) } });
      return compileQuery.mock.calls.length - before;
    };
    try {
      // One document for three caller shapes, then a second document: four compiled operations.
      for (const shape of ['a', 'b', 'c']) expect(await compiles('{ hello(name: "one") }', shape)).toBe(1);
      expect(await compiles('{ hello(name: "two") }', 'a')).toBe(1);
      // Repeats are served from the cache.
      expect(await compiles('{ hello(name: "one") }', 'b')).toBe(0);
      expect(await compiles('{ hello(name: "two") }', 'a')).toBe(0);
      // A fifth makes room by dropping the least recently used document ("one") with its three variants.
      expect(await compiles('{ hello(name: "two") }', 'b')).toBe(1);
      expect(await compiles('{ hello(name: "two") }', 'a')).toBe(0);
      expect(await compiles('{ hello(name: "one") }', 'c')).toBe(1);
      expect(await compiles('{ hello(name: "one") }', 'a')).toBe(1);
    } finally {
      await apollo.stop();
    }
  });
});
