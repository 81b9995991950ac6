import { gql } from 'graphql-tag';

/**
 * The authorization directives. Add this to your type definitions to annotate your own schema;
 * `applyAuthorization` enforces them. The scope catalog (`@scope` on the schema) is declared
 * next to the schema itself (schema/scopes.graphql).
 */
export const authorizationDirectives = gql`
"""
The caller's access token must carry the scope. On a type, it applies to every field of
the type; on an interface, to every implementation; on a field, in addition to its type's.
Repeat the directive to require several scopes (all must hold); use \`anyOf\` for alternatives.
"""
directive @requiresScope(
  "One scope that is required."
  scope: String
  "Alternatives: any one of these scopes is enough."
  anyOf: [String!]
) repeatable on OBJECT | INTERFACE | FIELD_DEFINITION

"The field is available only to tokens that act for a user, not to a client acting for itself (client credentials)."
directive @requiresUser on OBJECT | FIELD_DEFINITION

"Marks a root field as intentionally readable without a token (deny-by-default check)."
directive @public on FIELD_DEFINITION

"Apollo Federation: the caller must present a valid token."
directive @authenticated on OBJECT | INTERFACE | FIELD_DEFINITION | SCALAR | ENUM

"Apollo Federation: OR of ANDs of scopes."
directive @requiresScopes(scopes: [[String!]!]!) on OBJECT | INTERFACE | FIELD_DEFINITION | SCALAR | ENUM

"Declares a scope that this resource server understands (the scope catalog)."
directive @scope(name: String!, description: String!) repeatable on SCHEMA
`;
