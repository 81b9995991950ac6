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

/**
 * The error a denied field resolves to: `UNAUTHENTICATED` without a token, `FORBIDDEN` otherwise,
 * with the scopes that were needed and the ones that are missing.
 */
export function denialError(denial: Denial): AppError {
  const detail: Record<string, unknown> = {
    reason: denial.reason,
    requiredScopes: denial.requiredScopes,
    missingScopes: denial.missingScopes,
  };
  if (denial.acceptedScopeSets.length > 0) detail['acceptedScopeSets'] = denial.acceptedScopeSets;
  const code = denial.reason === 'no_token' ? ErrorCode.UNAUTHENTICATED : ErrorCode.FORBIDDEN;
  const message = denial.reason === 'insufficient_scope' ? `${MESSAGES[denial.reason]}: requires ${denial.requiredScopes.join(' ')}` : MESSAGES[denial.reason];
  return new AppError(code, message, detail);
}
