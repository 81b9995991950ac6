import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { gql } from 'graphql-tag';
import { type AuthorizedSchema, applyAuthorization } from '../authz/authorization-transform.js';
import { costDirectives } from '../authz/cost-directives.js';
import { authorizationDirectives } from '../authz/directives.js';
import { resolvers } from './resolvers/index.js';

const SCHEMA_DIR = fileURLToPath(new URL('../../schema/', import.meta.url));

/** The SDL of schema/*.graphql, in file-name order, with the authorization and cost directives. */
export function loadTypeDefs(): DocumentNode[] {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.graphql')).sort();
  return [authorizationDirectives, costDirectives, ...files.map((f) => gql(readFileSync(SCHEMA_DIR + f, 'utf8')))];
}

/** The SDL and the resolvers as one executable schema, before the authorization transform. */
export function executableSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}

/**
 * The executable schema with `@requiresScope` applied as a schema transform. Throws at start-up
 * when an annotation is inconsistent (an undeclared scope, an unprotected root field).
 */
export function buildSchema(): AuthorizedSchema {
  return applyAuthorization(executableSchema(), { denyByDefault: true });
}
