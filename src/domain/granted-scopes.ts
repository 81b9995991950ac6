import type { Principal } from '../auth/principal.js';
import type { ScopeName } from '../graphql/generated/scope-names.js';

/** Names for the scopes the domain's own rules use; checked against the schema's catalog (ScopeName). */
export const Scopes = {
  readProfile: 'read:profile',
  readEmail: 'read:email',
  writeProfile: 'write:profile',
  readOrders: 'read:orders',
  writeOrders: 'write:orders',
  adminOrders: 'admin:orders',
} as const satisfies Record<string, ScopeName>;

export type Scope = (typeof Scopes)[keyof typeof Scopes];

/** Whether the principal's token was granted the scope (exact string match). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}
