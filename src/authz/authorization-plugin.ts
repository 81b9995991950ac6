import { type ApolloServerPlugin, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import type { ChallengeBuilder } from '../auth/challenge-builder.js';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../logger.js';
import type { AuthorizationIndex } from './authorization-index.js';
import { denialChallengeDescription } from './denial-error.js';
import type { AuthorizationMode } from '../config.js';
import type { AuthorizationContext } from './field-guard.js';
import { OperationAnalyzer } from './operation-analyzer.js';
import { type DenialSink, decideOperation, rejectionErrors } from './operation-decision.js';
import type { OperationPlan } from './operation-plan.js';
import { PlanCache } from './plan-cache.js';
import { evaluate } from './requirement.js';
import { NO_METRICS, type Metrics } from '../lib/metrics.js';
import { tracer } from '../lib/tracing.js';

export interface AuthorizationPluginOptions {
  readonly index: AuthorizationIndex;
  /** Default: 'filter'. */
  readonly mode?: AuthorizationMode;
  /** The server's one challenge builder (the authentication edge answers with the same). */
  readonly challenges: ChallengeBuilder;
  /** The shared operation analysis (the operation limits use the same). Default: one of its own. */
  readonly analyzer?: OperationAnalyzer;
  /** Counts decisions (allowed, filtered, rejected; in dry-run, what would have been) and missing scopes. Default: {@link NO_METRICS}. */
  readonly metrics?: Metrics;
}

interface PluginContext extends AuthorizationContext {
  readonly requestId: string;
  readonly log: Logger;
  /** Where the request's denials are written (its access line), if anywhere but their own lines. */
  readonly denials?: DenialSink | undefined;
}

/**
 * Decides the whole operation before execution (RFC 6750 §3.1 outcomes):
 * - every requested root field denied → 401 (no token) or 403 `insufficient_scope` naming the
 *   scopes that would satisfy the whole request; nothing executes;
 * - a mutation with any denied root field is rejected whole, before any side effect;
 * - mode `reject`: any denied field rejects the operation; `dry-run`: only logs;
 * - otherwise execution proceeds and the schema's field guards null out the denied fields.
 */
export function authorizationPlugin(options: AuthorizationPluginOptions): ApolloServerPlugin<PluginContext> {
  const mode = options.mode ?? 'filter';
  const cache = new PlanCache();
  const analyzer = options.analyzer ?? new OperationAnalyzer(options.index);
  const metrics = options.metrics ?? NO_METRICS;
  // The same listener serves every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<PluginContext> = {
    async responseForOperation(rc) {
      const { contextValue } = rc;
      // Undefined without an operation, with invalid variables or an unreadable condition:
      // execution answers with that error before any resolver runs.
      const analysed = analyzer.forRequest(rc);
      if (analysed === undefined) return null;
      const { analysis } = analysed;
      const span = tracer.startSpan('authorization.plan');
      const { plan, reject } = decideOperation({ analysis, principal: contextValue.principal, guard: contextValue.guard, mode, log: contextValue.log, cache, denials: contextValue.denials });
      const outcome = plan.denied.length === 0 ? 'allowed' : reject ? 'rejected' : 'filtered';
      span.setAttribute('authz.outcome', outcome).end();
      metrics.authorization(outcome, outcome === 'allowed' ? [] : [...new Set(plan.denied.flatMap((d) => d.denial.missingScopes))]);
      if (!reject) return null;
      return rejection(contextValue.principal, plan, options.challenges);
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

function rejection(principal: Principal, plan: OperationPlan, challenges: ChallengeBuilder) {
  const errors = rejectionErrors(plan).map((e) => e.toJSON());
  const answer = principal.kind === 'anonymous' ? challenges.authenticationRequired() : insufficientScope(principal, plan, challenges);
  const headers = new HeaderMap();
  if (answer.challenge !== undefined) headers.set('www-authenticate', answer.challenge);
  return { http: { status: answer.status, headers }, body: { kind: 'single' as const, singleResult: { errors } } };
}

function insufficientScope(principal: Exclude<Principal, { kind: 'anonymous' }>, plan: OperationPlan, challenges: ChallengeBuilder) {
  const whole = evaluate(plan.requirement, principal);
  return challenges.insufficientScope({
    scopes: whole.allowed ? [] : [...whole.requiredScopes],
    description: denialChallengeDescription(!whole.allowed && whole.reason === 'user_required' ? 'user_required' : 'insufficient_scope'),
    // RFC 9449 §7.1: a DPoP-bound token (accepted only with the DPoP scheme) gets a DPoP challenge.
    dpopBound: principal.confirmationJkt !== undefined,
  });
}
