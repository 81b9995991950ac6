import { type GraphQLObjectType, type GraphQLSchema, isIntrospectionType, isObjectType } from 'graphql';
import type { AuthorizationIndex } from './authorization-index.js';
import { type Requirement, describeRequirement } from './requirement.js';

/**
 * A plain-text table of what every field of every object type requires (effective: the type's,
 * its interfaces' and the field's own), types and fields sorted by name; then what reaching an
 * object of each type requires (as `node(id:)` checks it); then the scope catalog in declaration
 * order. Deterministic, so that a change in protection shows up as a diff in review.
 */
export function schemaReport(schema: GraphQLSchema, index: AuthorizationIndex): string {
  const types = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => isObjectType(t) && !isIntrospectionType(t))
    .sort((a, b) => compare(a.name, b.name));

  const fieldRows = types.flatMap((t) =>
    Object.keys(t.getFields())
      .sort(compare)
      .map((f): [string, string] => [`${t.name}.${f}`, render(index.field(t.name, f))]),
  );
  const typeRows = types.map((t): [string, string] => [t.name, render(index.type(t.name))]);
  const scopeRows = index.scopes.map((s): [string, string] => [s.name, s.description]);

  return [
    section('Fields (effective requirement)', fieldRows),
    section('Types (reaching any object of the type, e.g. through node(id:))', typeRows),
    section('Scopes (catalog order)', scopeRows),
  ].join('\n');
}

function render(r: Requirement): string {
  return describeRequirement(r) || 'public';
}

function section(title: string, rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return `${title}\n${rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}\n`).join('')}`;
}

// Not localeCompare: the snapshot must not depend on the machine's locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
