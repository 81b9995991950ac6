import type { Principal } from '../auth/principal.js';

/** The OAuth scopes this API understands; the single source for their spelling. */
export const Scopes = {
  readProfile: 'read:profile',
  readEmail: 'read:email',
  writeProfile: 'write:profile',
  readOrders: 'read:orders',
  writeOrders: 'write:orders',
  adminOrders: 'admin:orders',
} as const;

export type Scope = (typeof Scopes)[keyof typeof Scopes];

/** Whether the principal's token was granted the scope (exact string match). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}
