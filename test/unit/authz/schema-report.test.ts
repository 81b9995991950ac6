import { describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { applyAuthorization } from '../../../src/authz/authorization-transform.js';
import { authorizationDirectives } from '../../../src/authz/directives.js';
import { schemaReport } from '../../../src/authz/schema-report.js';
import { buildSchema } from '../../../src/graphql/schema.js';

describe('schema report', () => {
  it('shows the requirement of every field of the real schema (review a diff here as a change in protection)', () => {
    const { schema, index } = buildSchema();
    expect(schemaReport(schema, index)).toMatchSnapshot();
  });

  it('marks public fields, sorts types and fields, and lists the catalog with descriptions', () => {
    const { schema, index } = applyAuthorization(
      makeExecutableSchema({
        typeDefs: [
          authorizationDirectives,
          `extend schema @scope(name: "b:x", description: "Bee") @scope(name: "a:x", description: "Ay")
           type Zed @requiresScope(scope: "a:x") { y: Int b: Int @requiresScope(anyOf: ["b:x", "a:x"]) }
           type Query { z: Zed @requiresScope(scope: "a:x") pub: Int @public me: Int @authenticated }`,
        ],
      }),
    );
    expect(schemaReport(schema, index)).toBe(
      [
        'Fields (effective requirement)',
        '  Query.me   any valid token',
        '  Query.pub  public',
        '  Query.z    a:x',
        '  Zed.b      a:x',
        '  Zed.y      a:x',
        '',
        'Types (reaching any object of the type, e.g. through node(id:))',
        '  Query  public',
        '  Zed    a:x',
        '',
        'Scopes (catalog order)',
        '  b:x  Bee',
        '  a:x  Ay',
        '',
      ].join('\n'),
    );
  });
});
