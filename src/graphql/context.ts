import type { Principal } from '../auth/principal.js';
import type { AuthorizationContext, FieldGuard } from '../authz/field-guard.js';
import type { RequestDeps } from '../domain/request-deps.js';
import type { Logger } from '../logger.js';

/**
 * Everything a resolver may use, built once per request and never mutated: who is calling,
 * their authorization decisions, per-request DataLoaders over the shared database, and a
 * logger bound to the request id.
 */
export interface RequestContext extends AuthorizationContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly guard: FieldGuard;
  readonly deps: RequestDeps;
  readonly log: Logger;
}
