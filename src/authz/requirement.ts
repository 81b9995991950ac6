import type { Principal } from '../auth/principal.js';

/**
 * What a field demands of the caller. `scopes` is an OR of ANDs: the caller must hold every
 * scope of at least one inner set. An empty `scopes` list demands no scope.
 */
export interface Requirement {
  /** A valid token is needed (implied by any scope requirement). */
  readonly authenticated: boolean;
  /** The token must act for a user, not for a client itself (client credentials). */
  readonly user: boolean;
  /** Alternatives, each a sorted set of scopes that together suffice. */
  readonly scopes: ReadonlyArray<ReadonlyArray<string>>;
}

export const NO_REQUIREMENT: Requirement = Object.freeze({ authenticated: false, user: false, scopes: Object.freeze([]) });

/** Why a requirement was not met. */
export type DenialReason = 'no_token' | 'insufficient_scope' | 'user_required';

export type Decision = { readonly allowed: true } | Denial;

export interface Denial {
  readonly allowed: false;
  readonly reason: DenialReason;
  /** The cheapest alternative that would satisfy the requirement, in full. */
  readonly requiredScopes: readonly string[];
  /** The part of `requiredScopes` the caller does not hold. */
  readonly missingScopes: readonly string[];
  /** Every acceptable alternative, when there is more than one. */
  readonly acceptedScopeSets: ReadonlyArray<ReadonlyArray<string>>;
}

export const ALLOWED: Decision = Object.freeze({ allowed: true });

export function isEmptyRequirement(r: Requirement): boolean {
  return !r.authenticated && !r.user && r.scopes.length === 0;
}

/** Builds a requirement from scope alternatives (OR of ANDs), normalised. */
export function requirement(parts: { authenticated?: boolean; user?: boolean; scopes?: ReadonlyArray<ReadonlyArray<string>> }): Requirement {
  const scopes = normaliseAlternatives(parts.scopes ?? []);
  return Object.freeze({
    authenticated: Boolean(parts.authenticated) || Boolean(parts.user) || scopes.length > 0,
    user: Boolean(parts.user),
    scopes,
  });
}

/** Both requirements must hold (AND): the scope alternatives are crossed. */
export function combine(a: Requirement, b: Requirement): Requirement {
  if (isEmptyRequirement(a)) return b;
  if (isEmptyRequirement(b)) return a;
  let scopes: ReadonlyArray<ReadonlyArray<string>>;
  if (a.scopes.length === 0) scopes = b.scopes;
  else if (b.scopes.length === 0) scopes = a.scopes;
  else scopes = a.scopes.flatMap((x) => b.scopes.map((y) => [...x, ...y]));
  return requirement({ authenticated: a.authenticated || b.authenticated, user: a.user || b.user, scopes });
}

/** Sorts and de-duplicates each set, then drops any alternative that is a superset of another. */
function normaliseAlternatives(input: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> {
  const sets = input.map((set) => [...new Set(set)].sort());
  // An empty alternative means "no scope needed", which absorbs every other alternative.
  if (sets.some((s) => s.length === 0)) return Object.freeze([]);
  sets.sort((x, y) => x.length - y.length || x.join(' ').localeCompare(y.join(' ')));
  const kept: string[][] = [];
  for (const s of sets) {
    if (!kept.some((k) => k.every((scope) => s.includes(scope)))) kept.push(s);
  }
  return Object.freeze(kept.map((s) => Object.freeze(s)));
}

/** Whether every caller that meets `a` also meets `b` (a is at least as strict as b). */
export function implies(a: Requirement, b: Requirement): boolean {
  if (b.authenticated && !a.authenticated) return false;
  if (b.user && !a.user) return false;
  if (b.scopes.length === 0) return true;
  if (a.scopes.length === 0) return false;
  return a.scopes.every((alt) => b.scopes.some((needed) => needed.every((s) => alt.includes(s))));
}

/** Decides whether the principal meets the requirement. Pure and synchronous. */
export function evaluate(r: Requirement, principal: Principal): Decision {
  if (!r.authenticated) return ALLOWED;
  if (principal.kind === 'anonymous') return deny('no_token', r, principal);
  if (r.user && principal.kind !== 'user') return deny('user_required', r, principal);
  if (r.scopes.length === 0) return ALLOWED;
  for (const alternative of r.scopes) {
    if (alternative.every((s) => principal.scopes.has(s))) return ALLOWED;
  }
  return deny('insufficient_scope', r, principal);
}

function deny(reason: DenialReason, r: Requirement, principal: Principal): Denial {
  let best: ReadonlyArray<string> = [];
  let bestMissing: string[] = [];
  for (const alternative of r.scopes) {
    const missing = alternative.filter((s) => !principal.scopes.has(s));
    if (best.length === 0 || missing.length < bestMissing.length) {
      best = alternative;
      bestMissing = missing;
    }
  }
  return Object.freeze({
    allowed: false,
    reason,
    requiredScopes: best,
    missingScopes: Object.freeze(bestMissing),
    acceptedScopeSets: r.scopes.length > 1 ? r.scopes : Object.freeze([]),
  });
}

/** A stable, human-readable rendering: `read:orders AND read:profile`, alternatives joined by OR. */
export function describeRequirement(r: Requirement): string {
  const parts: string[] = [];
  if (r.scopes.length > 0) parts.push(r.scopes.map((s) => s.join(' AND ')).map((s) => (r.scopes.length > 1 && s.includes(' AND ') ? `(${s})` : s)).join(' OR '));
  else if (r.authenticated && !r.user) parts.push('any valid token');
  if (r.user) parts.push('a user token');
  return parts.join('; ');
}
