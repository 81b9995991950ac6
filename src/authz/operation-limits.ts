import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { NO_METRICS, type Metrics } from '../lib/metrics.js';
import type { LimitsMode, OperationLimits } from '../config.js';
import { ErrorCode, LimitExceededError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OperationMeasures } from './operation-analysis.js';
import type { OperationAnalyzer } from './operation-analyzer.js';

export type { LimitsMode, OperationLimits } from '../config.js';

/** One limit an operation exceeds. */
export interface LimitViolation {
  readonly code: ErrorCode;
  /** The limit's name in the configuration (`maxDepth`). */
  readonly name: keyof OperationLimits | 'slicingArgument';
  readonly limit: number;
  readonly measured: number;
  readonly message: string;
}

const CHECKS: ReadonlyArray<{ name: keyof OperationLimits; measure: keyof OperationMeasures; code: ErrorCode; what: string }> = [
  { name: 'maxDepth', measure: 'depth', code: ErrorCode.OPERATION_TOO_DEEP, what: 'depth' },
  { name: 'maxAliases', measure: 'aliases', code: ErrorCode.TOO_MANY_ALIASES, what: 'aliases' },
  { name: 'maxRootFields', measure: 'rootFields', code: ErrorCode.TOO_MANY_ROOT_FIELDS, what: 'root fields' },
  { name: 'maxSelections', measure: 'selections', code: ErrorCode.TOO_MANY_SELECTIONS, what: 'selections with fragments expanded' },
  { name: 'maxDirectivesPerField', measure: 'directivesPerField', code: ErrorCode.TOO_MANY_DIRECTIVES, what: 'directives on one field' },
  { name: 'maxCost', measure: 'cost', code: ErrorCode.OPERATION_TOO_COMPLEX, what: 'estimated cost' },
  { name: 'maxIntrospectionDepth', measure: 'introspectionDepth', code: ErrorCode.INTROSPECTION_TOO_COMPLEX, what: 'introspection depth' },
  { name: 'maxIntrospectionListDepth', measure: 'introspectionListDepth', code: ErrorCode.INTROSPECTION_TOO_COMPLEX, what: 'nested introspection lists' },
  { name: 'maxIntrospectionFields', measure: 'introspectionFields', code: ErrorCode.INTROSPECTION_TOO_COMPLEX, what: 'introspection root fields' },
];

/** Every limit the measures exceed, in a fixed order (the first is the one a refusal names). */
export function checkLimits(measures: OperationMeasures, limits: OperationLimits): LimitViolation[] {
  const violations: LimitViolation[] = [];
  if (measures.slicingArgumentMissing !== undefined) {
    violations.push({
      code: ErrorCode.SLICING_ARGUMENT_REQUIRED,
      name: 'slicingArgument',
      limit: 1,
      measured: 0,
      message: `${measures.slicingArgumentMissing} needs exactly one of its slicing arguments`,
    });
  }
  for (const c of CHECKS) {
    const measured = measures[c.measure] as number;
    const limit = limits[c.name];
    if (measured > limit) violations.push({ code: c.code, name: c.name, limit, measured, message: `The operation's ${c.what} is ${measured}, above the limit of ${limit}.` });
  }
  return violations;
}

/** The request header a client sends (`X-GraphQL-Cost: true`) to get `extensions.cost` in the response. */
export const COST_REQUEST_HEADER = 'x-graphql-cost';

export interface OperationLimitsPluginOptions {
  readonly analyzer: OperationAnalyzer;
  readonly limits: OperationLimits;
  /** Default: `enforce`. */
  readonly mode?: LimitsMode;
  /** Counts refusals by the limit named (enforce mode only). Default: {@link NO_METRICS}. */
  readonly metrics?: Metrics;
}

interface LimitsContext {
  readonly log: Logger;
}

/** Every measured value, for the log line. */
function measuresForLog({ slicingArgumentMissing: _, ...measured }: OperationMeasures): Omit<OperationMeasures, 'slicingArgumentMissing'> {
  return measured;
}

/**
 * Bounds every operation before anything executes (before the authorization plan, the catalog
 * cache or a resolver): over a limit, HTTP 400 with `extensions.code` naming the limit, the
 * limit and the measured value. In `measure` mode the operation runs and one line is logged.
 * With `X-GraphQL-Cost: true` the response's `extensions.cost` says what the operation cost.
 */
export function operationLimitsPlugin<TContext extends LimitsContext>(options: OperationLimitsPluginOptions): ApolloServerPlugin<TContext> {
  const { analyzer, limits } = options;
  const mode = options.mode ?? 'enforce';
  const metrics = options.metrics ?? NO_METRICS;
  // One listener for every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation(rc) {
      const analysed = analyzer.forRequest(rc);
      if (analysed === undefined) return;
      const violations = checkLimits(analysed.analysis.measures, limits);
      if (violations.length === 0) return;
      const event = {
        event: mode === 'measure' ? 'limits.would_refuse' : 'limits.refused',
        operationName: rc.operationName ?? null,
        exceeded: violations.map((v) => v.name),
        ...measuresForLog(analysed.analysis.measures),
      };
      if (mode === 'measure') {
        rc.contextValue.log.warn(event, 'operation over a limit (measure mode: it runs)');
        return;
      }
      rc.contextValue.log.info(event, 'operation refused: over a limit');
      const first = violations[0]!;
      metrics.limitRefused(first.name);
      throw new LimitExceededError(
        first.code,
        first.message,
        first.limit,
        first.measured,
        violations.length > 1 ? { exceeded: violations.map((v) => ({ code: v.code, limit: v.limit, measured: v.measured })) } : {},
      );
    },
    async willSendResponse(rc) {
      if (rc.request.http?.headers.get(COST_REQUEST_HEADER) !== 'true') return;
      const body = rc.response.body;
      if (body.kind !== 'single') return;
      const analysed = analyzer.forRequest(rc);
      if (analysed === undefined) return;
      const m = analysed.analysis.measures;
      // A new result object: the one in the body may be shared (the catalog response cache).
      body.singleResult = {
        ...body.singleResult,
        extensions: { ...body.singleResult.extensions, cost: { estimated: m.cost, limit: limits.maxCost, depth: m.depth, aliases: m.aliases, rootFields: m.rootFields } },
      };
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
