import { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal.js';
import type { OperationAnalysis } from './operation-analysis.js';
import type { OperationPlan } from './operation-plan.js';
import { principalShapeKey } from './principal-shape.js';

/** Plans kept per analysis (distinct scope sets and principal kinds). */
const DEFAULT_ENTRIES_PER_ANALYSIS = 64;

/**
 * Caches authorization plans per operation analysis and principal shape (kind and exact scope
 * set): everything a plan depends on, since an analysis is already one operation with one set of
 * the variable values its fields depend on (`@skip`/`@include`). Analyses are held weakly, and go
 * when the analyzer drops them; plans are bounded per analysis (least recently used first).
 */
export class PlanCache {
  readonly #byAnalysis = new WeakMap<OperationAnalysis, LRUCache<string, OperationPlan>>();
  readonly #maxEntries: number;

  constructor(maxEntriesPerAnalysis = DEFAULT_ENTRIES_PER_ANALYSIS) {
    this.#maxEntries = maxEntriesPerAnalysis;
  }

  getOrCompute(analysis: OperationAnalysis, principal: Principal, compute: () => OperationPlan): OperationPlan {
    let plans = this.#byAnalysis.get(analysis);
    if (!plans) this.#byAnalysis.set(analysis, (plans = new LRUCache({ max: this.#maxEntries })));
    const key = principalShapeKey(principal);
    let plan = plans.get(key);
    if (plan === undefined) plans.set(key, (plan = compute()));
    return plan;
  }
}
