import type { Principal } from '../auth/principal.js';
import type { AuthorizationMode } from '../config.js';
import type { AppError } from '../errors.js';
import type { AuthorizationIndex } from './authorization-index.js';
import { denialError } from './denial-error.js';
import { type Decision, type Requirement, evaluate } from './requirement.js';

/**
 * Per-request authorization state: decisions for the request's principal, memoised per
 * requirement (requirements are interned by the index, so identity is a sound key).
 */
export class FieldGuard {
  readonly #principal: Principal;
  readonly #enforce: boolean;
  readonly #index: AuthorizationIndex | undefined;
  readonly #decisions = new Map<Requirement, Decision>();

  constructor(principal: Principal, mode: AuthorizationMode, index?: AuthorizationIndex) {
    this.#principal = principal;
    this.#enforce = mode !== 'dry-run';
    this.#index = index;
  }

  /** Decision for this request's principal. */
  decide(r: Requirement): Decision {
    let d = this.#decisions.get(r);
    if (d === undefined) {
      d = evaluate(r, this.#principal);
      this.#decisions.set(r, d);
    }
    return d;
  }

  /** The error to resolve a field to, or undefined when it may resolve. Synchronous: no promise per field. */
  check(r: Requirement): AppError | undefined {
    const d = this.decide(r);
    if (d.allowed || !this.#enforce) return undefined;
    return denialError(d);
  }

  /**
   * The error for reaching an object of this type at all (its type-level requirement), for
   * resolvers that pick the type at run time, such as `node(id:)`.
   */
  checkType(typeName: string): AppError | undefined {
    if (!this.#index) throw new Error('FieldGuard was built without an authorization index');
    return this.check(this.#index.type(typeName));
  }
}

/** What the authorization layer needs from the GraphQL context. */
export interface AuthorizationContext {
  readonly principal: Principal;
  readonly guard: FieldGuard;
}
