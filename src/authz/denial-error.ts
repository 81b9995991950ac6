import { LRUCache } from 'lru-cache';
import { AppError, ErrorCode } from '../errors.js';
import type { Denial } from './requirement.js';

const MESSAGES: Record<Denial['reason'], string> = {
  no_token: 'Authentication required',
  insufficient_scope: 'Insufficient scope',
  user_required: 'This field requires a token issued for a user',
};

/** `error_description` of the 403 challenge when the operation as a whole is denied (RFC 6750 §3). */
const CHALLENGE_DESCRIPTIONS: Record<Exclude<Denial['reason'], 'no_token'>, string> = {
  insufficient_scope: 'the access token lacks the required scope',
  user_required: 'a token issued for a user is required',
};

/** The client-safe `error_description` of an `insufficient_scope` challenge for a token denied for `reason`. */
export function denialChallengeDescription(reason: Exclude<Denial['reason'], 'no_token'>): string {
  return CHALLENGE_DESCRIPTIONS[reason];
}

/** Denial errors kept for reuse: a bound on distinct (reason, scopes) combinations remembered. */
const SHARED_DENIAL_ERRORS = 256;
const sharedErrors = new LRUCache<string, AppError>({ max: SHARED_DENIAL_ERRORS });

// Scope tokens never hold a space (RFC 6749 §3.3) nor a control character, so the key is unambiguous.
const denialKey = (denial: Denial) =>
  `${denial.reason}\u0000${denial.requiredScopes.join(' ')}\u0000${denial.missingScopes.join(' ')}\u0000${denial.acceptedScopeSets.map((set) => set.join(' ')).join('\u0001')}`;

/**
 * The error a denied field resolves to: `UNAUTHENTICATED` without a token, `FORBIDDEN` otherwise,
 * with the scopes that were needed and the ones that are missing.
 *
 * One frozen error per distinct denial, shared by every request that meets it: the executor never
 * changes the error a resolver throws (graphql-js and graphql-jit wrap it in an error of their own
 * that carries the path and locations), and building a GraphQLError is most of what a denied field
 * costs (Q4 of `npm run bench`).
 */
export function denialError(denial: Denial): AppError {
  const key = denialKey(denial);
  let error = sharedErrors.get(key);
  if (error === undefined) {
    error = buildDenialError(denial);
    sharedErrors.set(key, error);
  }
  return error;
}

function buildDenialError(denial: Denial): AppError {
  const detail: Record<string, unknown> = {
    reason: denial.reason,
    requiredScopes: Object.freeze([...denial.requiredScopes]),
    missingScopes: Object.freeze([...denial.missingScopes]),
  };
  if (denial.acceptedScopeSets.length > 0) detail['acceptedScopeSets'] = Object.freeze(denial.acceptedScopeSets.map((set) => Object.freeze([...set])));
  const code = denial.reason === 'no_token' ? ErrorCode.UNAUTHENTICATED : ErrorCode.FORBIDDEN;
  const message = denial.reason === 'insufficient_scope' ? `${MESSAGES[denial.reason]}: requires ${denial.requiredScopes.join(' ')}` : MESSAGES[denial.reason];
  const error = new AppError(code, message, detail);
  Object.freeze(error.extensions);
  return Object.freeze(error);
}
