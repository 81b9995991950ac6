import { AppError, ErrorCode } from '../errors.js';
import type { Denial } from './requirement.js';

const MESSAGES: Record<Denial['reason'], string> = {
  no_token: 'Authentication required',
  insufficient_scope: 'Insufficient scope',
  user_required: 'This field requires a token issued for a user',
};

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
