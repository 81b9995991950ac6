import {
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  getVariableValues,
} from 'graphql';
import type { AuthorizationIndex } from './authorization-index.js';
import { costIndexFor } from './cost-directives.js';
import type { FieldGuard } from './field-guard.js';
import { type OperationAnalysis, type SelectionTree, analyseOperation } from './operation-analysis.js';
import type { Decision, Denial, Requirement } from './requirement.js';

/** One field of the operation that will be denied, at its response path (list indices omitted). */
export interface DeniedField {
  readonly path: string;
  readonly coordinate: string;
  readonly denial: Denial;
  /**
   * The field is reached through an interface or union and is allowed on some of the possible
   * types: whether it is denied depends on the runtime type (the field guard decides then).
   */
  readonly conditional: boolean;
}

export interface RootFieldDecision {
  readonly responseKey: string;
  readonly coordinate: string;
  readonly decision: Decision;
}

/** The authorization verdict for an operation, computed before anything executes. */
export interface OperationPlan {
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** Root fields other than `__typename` and introspection. */
  readonly rootFields: readonly RootFieldDecision[];
  /** Every field that would be denied and is reachable (its ancestors are allowed), the first {@link MAX_LISTED_DENIALS}. */
  readonly denied: readonly DeniedField[];
  /** Reachable denied fields beyond those listed. */
  readonly deniedUnlisted: number;
  /** What the whole operation needs, every field combined: names `scope=` in a 403 challenge. */
  readonly requirement: Requirement;
}

/** Denied fields listed in a plan (for logs and rejections); the decision itself always covers every field. */
export const MAX_LISTED_DENIALS = 100;

interface TreeVerdict {
  /** Some field in the tree (or below it) is denied. */
  readonly denied: boolean;
}

/** Decides every field of an analysed operation for one caller, walking each shared tree once. */
class Planner {
  readonly #verdicts = new Map<number, TreeVerdict>();
  readonly denied: DeniedField[] = [];
  /** Denied fields beyond {@link MAX_LISTED_DENIALS} are counted, not listed. */
  unlisted = 0;

  constructor(readonly guard: FieldGuard) {}

  verdict(tree: SelectionTree): TreeVerdict {
    let v = this.#verdicts.get(tree.id);
    if (v !== undefined) return v;
    let denied = false;
    for (const k of tree.keys) {
      for (const s of k.slots) {
        if (s.meta) continue;
        if (!this.guard.decide(s.requirement).allowed || (s.child && this.verdict(s.child).denied)) denied = true;
      }
    }
    v = { denied };
    this.#verdicts.set(tree.id, v);
    return v;
  }

  /** Lists the reachable denied fields under `tree` at `path` (a field below a denied one is not reachable). */
  list(tree: SelectionTree, path: string): void {
    if (!this.verdict(tree).denied) return;
    for (const k of tree.keys) {
      const fieldPath = path ? `${path}.${k.key}` : k.key;
      const slots = k.slots.filter((s) => !s.meta);
      const decisions = slots.map((s) => this.guard.decide(s.requirement).allowed);
      const conditional = decisions.includes(true) && decisions.includes(false);
      slots.forEach((s, i) => {
        const decision = this.guard.decide(s.requirement);
        if (!decisions[i]) {
          if (this.denied.length < MAX_LISTED_DENIALS) this.denied.push({ path: fieldPath, coordinate: s.coordinate, denial: decision as Denial, conditional });
          else this.unlisted += 1;
        } else if (s.child) {
          this.list(s.child, fieldPath);
        }
      });
    }
  }
}

/**
 * Decides an analysed operation for the guard's caller, before execution: which root fields are
 * allowed, which reachable fields are denied (through fragments, inline fragments on abstract
 * types, aliases and @skip/@include), and what the whole operation requires.
 */
export function planAnalysedOperation(analysis: OperationAnalysis, guard: FieldGuard): OperationPlan {
  const rootFields: RootFieldDecision[] = [];
  const planner = new Planner(guard);
  if (analysis.root) {
    for (const k of analysis.root.keys) {
      for (const s of k.slots) {
        if (!s.meta) rootFields.push({ responseKey: k.key, coordinate: s.coordinate, decision: guard.decide(s.requirement) });
      }
    }
    planner.list(analysis.root, '');
  }
  return {
    operationType: analysis.operationType,
    rootFields,
    denied: planner.denied,
    deniedUnlisted: planner.unlisted,
    requirement: analysis.requirement,
  };
}

/**
 * Analyses a validated operation with its variables and decides it for the guard's caller
 * ({@link analyseOperation} then {@link planAnalysedOperation}).
 */
export function planOperation(input: {
  schema: GraphQLSchema;
  index: AuthorizationIndex;
  guard: FieldGuard;
  operation: OperationDefinitionNode;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** Coerced variable values (see {@link coerceVariables}). */
  variables: Readonly<Record<string, unknown>>;
}): OperationPlan {
  const analysis = analyseOperation({ ...input, costs: costIndexFor(input.schema) });
  return planAnalysedOperation(analysis, input.guard);
}

const NO_VARIABLES: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The operation's variables coerced as execution will coerce them (defaults applied, types
 * checked), so that @skip/@include are read exactly as graphql-js will read them. Undefined when
 * the variables are invalid: execution then reports that error itself and nothing is resolved.
 */
export function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  // Hot path: most operations declare no variables, and then nothing needs coercing.
  if (!operation.variableDefinitions || operation.variableDefinitions.length === 0) return NO_VARIABLES;
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {}, { maxErrors: 1 });
  return result.errors ? undefined : result.coerced;
}
