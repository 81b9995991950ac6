import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { setBounded } from '../bounded-map.js';
import { shapingVariables } from './operation-analyzer.js';
import type { OperationPlan } from './operation-plan.js';
import { principalShapeKey } from './principal-shape.js';

/** Plans depend on @skip/@include values only, not on list sizes. */
const NO_SLICING: ReadonlySet<string> = new Set();

/** Plans kept per operation (distinct scope sets × @skip/@include variable values). */
const DEFAULT_ENTRIES_PER_OPERATION = 64;

/**
 * Caches authorization plans per operation and per principal shape (kind and exact scope
 * set) and the values of the variables that @skip/@include read — everything a plan depends
 * on. Operations are keyed by identity: Apollo Server reuses the parsed document of a repeated
 * query string, so a repeated operation pays one map lookup. Bounded per operation; operations
 * themselves are held weakly and go when Apollo's document cache drops them.
 */
export class PlanCache {
  readonly #byOperation = new WeakMap<OperationDefinitionNode, { vars: readonly string[]; plans: Map<string, OperationPlan> }>();
  readonly #maxEntries: number;

  constructor(maxEntriesPerOperation = DEFAULT_ENTRIES_PER_OPERATION) {
    this.#maxEntries = maxEntriesPerOperation;
  }

  getOrCompute(
    document: DocumentNode | undefined,
    operation: OperationDefinitionNode,
    principal: Principal,
    variables: Readonly<Record<string, unknown>> | undefined,
    compute: () => OperationPlan,
  ): OperationPlan {
    let entry = this.#byOperation.get(operation);
    if (!entry) {
      entry = { vars: shapingVariables(document, operation, NO_SLICING), plans: new Map() };
      this.#byOperation.set(operation, entry);
    }
    let key = principalShapeKey(principal);
    // Coerced values: a missing variable with a default and an explicit null are already told apart.
    for (const name of entry.vars) key += `\u0000${JSON.stringify(variables?.[name])}`;
    let plan = entry.plans.get(key);
    if (!plan) {
      plan = setBounded(entry.plans, key, compute(), this.#maxEntries);
    }
    return plan;
  }
}
