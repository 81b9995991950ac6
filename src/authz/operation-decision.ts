import type { Principal } from '../auth/principal.js';
import type { AuthorizationMode } from '../config.js';
import { GraphQLError } from 'graphql';
import type { Logger } from '../logger.js';
import { denialError } from './denial-error.js';
import type { FieldGuard } from './field-guard.js';
import type { OperationAnalysis } from './operation-analysis.js';
import { type OperationPlan, planAnalysedOperation } from './operation-plan.js';
import type { PlanCache } from './plan-cache.js';

/** The verdict on a whole operation for one caller, before anything executes. */
export interface OperationDecision {
  readonly plan: OperationPlan;
  /**
   * Nothing may execute: every requested root field is denied, a mutation has a denied root
   * field, or mode `reject` and some field is denied. Otherwise the field guards null out what
   * is denied.
   */
  readonly reject: boolean;
}

/** One denied field as the logs give it. */
export interface LoggedDenial {
  readonly path: string;
  readonly field: string;
  readonly reason: string;
  readonly missingScopes: readonly string[];
}

/** The denials of one decided operation, for a line that carries them (the access line). */
export interface DenialRecord {
  /** `dry-run`: what would have been denied; nothing was. */
  readonly dryRun: boolean;
  /** The plan's listed denied fields. */
  readonly fields: readonly LoggedDenial[];
  /** Denied fields beyond those listed. */
  readonly unlisted: number;
}

/**
 * Where an operation's denials go instead of lines of their own: returns true when it takes them
 * (the request's access line will write them), false to have them logged as before.
 */
export type DenialSink = (record: DenialRecord) => boolean;

// One record per plan (plans are cached and shared, and so are their records); frozen, never changed.
const records = new WeakMap<OperationPlan, DenialRecord>();

/** The plan's denials as a frozen {@link DenialRecord} (built once per plan and mode). */
export function denialRecord(plan: OperationPlan, mode: AuthorizationMode): DenialRecord {
  const dryRun = mode === 'dry-run';
  const known = records.get(plan);
  if (known !== undefined && known.dryRun === dryRun) return known;
  const fields = plan.denied.map((d) => Object.freeze({ path: d.path, field: d.coordinate, reason: d.denial.reason, missingScopes: Object.freeze([...d.denial.missingScopes]) }));
  const record: DenialRecord = Object.freeze({ dryRun, fields: Object.freeze(fields), unlisted: plan.deniedUnlisted });
  records.set(plan, record);
  return record;
}

/**
 * Decides an analysed operation for the guard's caller (the HTTP plugin and the WebSocket
 * subscriptions use exactly this): plans it (through `cache` when given), reports every denial
 * (to `denials` when it takes them, else as one log line per denied field), and says whether the
 * operation is rejected whole.
 */
export function decideOperation(input: {
  readonly analysis: OperationAnalysis;
  readonly principal: Principal;
  readonly guard: FieldGuard;
  readonly mode: AuthorizationMode;
  readonly log: Logger;
  readonly cache?: PlanCache;
  /** Takes the denials for the request's access line; without it (or when it declines) each is logged on its own line. */
  readonly denials?: DenialSink | undefined;
}): OperationDecision {
  const { analysis, principal, guard, mode, log } = input;
  const compute = () => planAnalysedOperation(analysis, guard);
  const plan = input.cache ? input.cache.getOrCompute(analysis, principal, compute) : compute();
  if (plan.denied.length === 0) return { plan, reject: false };
  if (input.denials === undefined || !input.denials(denialRecord(plan, mode))) logDenials(log, principal, plan, mode);
  if (mode === 'dry-run') return { plan, reject: false };
  const deniedRoots = plan.rootFields.filter((r) => !r.decision.allowed);
  const reject =
    (deniedRoots.length > 0 && deniedRoots.length === plan.rootFields.length) ||
    (plan.operationType === 'mutation' && deniedRoots.length > 0) ||
    (mode === 'reject' && (plan.deniedUnlisted > 0 || plan.denied.some((d) => !d.conditional)));
  return { plan, reject };
}

/** One error per listed denied field of a rejected operation (`code`, `requiredScopes`, `missingScopes`), with its path. */
export function rejectionErrors(plan: OperationPlan): GraphQLError[] {
  return plan.denied
    .filter((d) => !d.conditional)
    .map((d) => {
      const error = denialError(d.denial);
      return new GraphQLError(error.message, { path: d.path.split('.'), extensions: error.extensions });
    });
}

function logDenials(log: Logger, principal: Principal, plan: OperationPlan, mode: AuthorizationMode): void {
  const who =
    principal.kind === 'anonymous'
      ? { subject: null, clientId: null }
      : { subject: principal.subject, clientId: principal.clientId ?? null };
  const event = mode === 'dry-run' ? 'authz.would_deny' : 'authz.denied';
  // Named keys, no spread before them (see requestContextBuilder): this runs for every denial.
  for (const d of plan.denied) {
    log.info(
      { event, subject: who.subject, clientId: who.clientId, path: d.path, field: d.coordinate, reason: d.denial.reason, missingScopes: d.denial.missingScopes },
      mode === 'dry-run' ? 'field would be denied (dry-run)' : 'field denied',
    );
  }
  if (plan.deniedUnlisted > 0) {
    log.info({ event, subject: who.subject, clientId: who.clientId, unlisted: plan.deniedUnlisted }, 'more fields denied than listed');
  }
}
