import {
  type DirectiveNode,
  type DocumentNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  getNamedType,
  getVariableValues,
  isAbstractType,
  separateOperations,
  validate,
  visit,
} from 'graphql';
import { ANONYMOUS } from '../auth/principal.js';
import type { AuthorizationIndex } from './authorization-index.js';
import { FieldGuard } from './field-guard.js';
import { costIndexFor } from './cost-directives.js';
import { analyseOperation, fragmentsOf } from './operation-analysis.js';
import { planAnalysedOperation } from './operation-plan.js';
import { type Requirement, describeRequirement } from './requirement.js';

/** The operation cannot be analysed: it does not validate against the schema, or cannot be chosen. */
export class InvalidOperationError extends Error {
  readonly code = 'ERR_INVALID_OPERATION';
  constructor(
    /** One line per problem, with `(line:column)` where graphql gives one. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid operation:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidOperationError';
  }
}

/** What a client must request so that a whole operation is allowed. */
export interface OperationScopes {
  /** `null` for an anonymous operation. */
  readonly operationName: string | null;
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** Every field of the operation combined. */
  readonly requirement: Requirement;
  /** The smallest alternative of `requirement.scopes`, sorted; empty when no scope is needed. */
  readonly scopes: string[];
  /** Every sufficient scope set (OR of ANDs), smallest first; empty when no scope is needed. */
  readonly alternatives: string[][];
  /** A token is needed at all (implied by any scope). */
  readonly authenticated: boolean;
  /** The token must act for a user: a client-credentials token is refused. */
  readonly userToken: boolean;
  /** `describeRequirement` of `requirement`, or `public`. */
  readonly description: string;
  /** Caveats a reader of the scopes should know, e.g. about `node(id:)` or unknown variables. */
  readonly notes: string[];
  /**
   * Estimated cost, as the operation limits measure it (`first: $n` without a value counts at the
   * argument's default; conditional fields count as included).
   */
  readonly cost: number;
}

export interface OperationScopesOptions {
  /**
   * The variables the client will send. When omitted, a field under `@skip`/`@include` whose
   * condition is a variable counts as included, so the scopes cover every value.
   * Default: undefined.
   */
  variables?: Readonly<Record<string, unknown>>;
}

/**
 * The scopes a client must request so that the operation (the only one, or `operationName`)
 * runs without a denial, computed from the schema's annotations by the same analysis the server
 * runs before execution. Throws {@link InvalidOperationError} when the document does not validate.
 */
export function scopesForOperation(
  schema: GraphQLSchema,
  index: AuthorizationIndex,
  document: DocumentNode,
  operationName?: string,
  options: OperationScopesOptions = {},
): OperationScopes {
  assertValid(schema, document);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation =
    operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
  if (!operation) {
    throw new InvalidOperationError([
      operationName === undefined ? `the document has ${operations.length} operations: name the one to analyse` : `no operation named "${operationName}"`,
    ]);
  }
  return analyse(schema, index, document, operation, options);
}

/** {@link scopesForOperation} for every operation of the document, in document order. */
export function scopesForDocument(
  schema: GraphQLSchema,
  index: AuthorizationIndex,
  document: DocumentNode,
  options: OperationScopesOptions = {},
): OperationScopes[] {
  assertValid(schema, document);
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => analyse(schema, index, document, operation, options));
}

function assertValid(schema: GraphQLSchema, document: DocumentNode): void {
  const errors = validate(schema, document);
  if (errors.length > 0) {
    throw new InvalidOperationError(
      errors.map((e) => (e.locations?.length ? `${e.message} (${e.locations.map((l) => `${l.line}:${l.column}`).join(', ')})` : e.message)),
    );
  }
}

function analyse(
  schema: GraphQLSchema,
  index: AuthorizationIndex,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  options: OperationScopesOptions,
): OperationScopes {
  const notes: string[] = [];
  // The operation with only the fragments it uses, so that notes concern this operation alone.
  let own = separateOperations(document)[operation.name?.value ?? ''] ?? document;
  let variables: Readonly<Record<string, unknown>>;
  if (options.variables) {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], options.variables);
    if (coerced.errors) throw new InvalidOperationError(coerced.errors.map((e) => e.message));
    variables = coerced.coerced;
  } else {
    const widened = includeVariableConditions(own);
    if (widened.count > 0) notes.push('fields under @skip/@include with a variable condition are counted as included');
    own = widened.document;
    variables = {};
  }

  const ownOperation = own.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = fragmentsOf(own);
  // The guard's decisions are not used: only the combined requirement of every field is.
  const analysis = analyseOperation({ schema, index, costs: costIndexFor(schema), operation: ownOperation, fragments, variables });
  const plan = planAnalysedOperation(analysis, new FieldGuard(ANONYMOUS, 'dry-run'));

  const rootType = schema.getRootType(operation.operation);
  const abstractRoots = new Set<string>();
  for (const root of plan.rootFields) {
    const fieldName = root.coordinate.slice(root.coordinate.indexOf('.') + 1);
    const field = rootType?.getFields()[fieldName];
    if (field && isAbstractType(getNamedType(field.type))) abstractRoots.add(fieldName);
  }
  for (const fieldName of [...abstractRoots].sort()) {
    const args = rootType?.getFields()[fieldName]?.args.map((a) => `${a.name}:`).join(' ') ?? '';
    notes.push(
      fieldName === 'node'
        ? `through node(${args}) the scopes depend on the ID's type; these cover every type the selection applies to`
        : `through ${fieldName}(${args}) the scopes depend on the returned object's type; these cover every type the selection applies to`,
    );
  }

  const r = plan.requirement;
  return {
    operationName: operation.name?.value ?? null,
    operationType: operation.operation,
    requirement: r,
    scopes: [...(r.scopes[0] ?? [])],
    alternatives: r.scopes.map((set) => [...set]),
    authenticated: r.authenticated,
    userToken: r.user,
    description: describeRequirement(r) || 'public',
    notes,
    cost: analysis.measures.cost,
  };
}

/** Drops `@skip`/`@include` whose condition is a variable, so that the field always counts. */
function includeVariableConditions(document: DocumentNode): { document: DocumentNode; count: number } {
  let count = 0;
  const conditional = (d: DirectiveNode) =>
    (d.name.value === 'skip' || d.name.value === 'include') && d.arguments?.some((a) => a.name.value === 'if' && a.value.kind === Kind.VARIABLE);
  const result = visit(document, {
    Directive(node) {
      if (!conditional(node)) return undefined;
      count += 1;
      return null;
    },
  });
  return { document: result, count };
}
