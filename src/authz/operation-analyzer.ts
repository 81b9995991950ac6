import type { GraphQLRequestContext } from '@apollo/server';
import { type DocumentNode, type FragmentDefinitionNode, GraphQLError, Kind, type OperationDefinitionNode, visit } from 'graphql';
import { LRUCache } from 'lru-cache';
import { resolvedOperation } from '../lib/resolved-operation.js';
import type { AuthorizationIndex } from './authorization-index.js';
import { costIndexFor } from './cost-directives.js';
import { type OperationAnalysis, analyseOperation, fragmentsOf } from './operation-analysis.js';
import { coerceVariables } from './operation-plan.js';

/** Analyses kept per operation (distinct values of the variables an analysis reads). */
const ENTRIES_PER_OPERATION = 64;

/** An operation of a request, analysed with the request's coerced variables. */
export interface AnalysedRequest {
  readonly operation: OperationDefinitionNode;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly analysis: OperationAnalysis;
}

/**
 * Names of the variables an analysis depends on: those `@skip`/`@include` read, and those passed
 * to a slicing argument (`first: $n`), anywhere in the operation or the document's fragments.
 */
export function shapingVariables(document: DocumentNode | undefined, operation: OperationDefinitionNode, slicingArguments: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  const roots = [operation, ...(document?.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION) ?? [])];
  for (const root of roots) {
    visit(root, {
      Directive(node) {
        if (node.name.value !== 'skip' && node.name.value !== 'include') return;
        for (const arg of node.arguments ?? []) if (arg.value.kind === Kind.VARIABLE) names.add(arg.value.name.value);
      },
      Field(node) {
        for (const arg of node.arguments ?? []) if (slicingArguments.has(arg.name.value) && arg.value.kind === Kind.VARIABLE) names.add(arg.value.name.value);
      },
    });
  }
  return [...names].sort();
}

type Request = Pick<GraphQLRequestContext<object>, 'schema' | 'document' | 'operation' | 'request'>;

/**
 * The one analysis of every operation, shared by the operation limits, the authorization plan
 * and the reports: computed once per operation and values of the variables it reads (Apollo
 * reuses the parsed document of a repeated query, so a repeated operation costs a lookup), and
 * once per request whichever plugin asks first.
 */
export class OperationAnalyzer {
  readonly #byOperation = new WeakMap<OperationDefinitionNode, { vars: readonly string[]; analyses: LRUCache<string, OperationAnalysis> }>();
  readonly #byRequest = new WeakMap<object, AnalysedRequest | null>();
  readonly #index: AuthorizationIndex | undefined;

  constructor(index?: AuthorizationIndex) {
    this.#index = index;
  }

  /**
   * The request's resolved operation, analysed; undefined when there is nothing to analyse: no
   * operation could be chosen, its variables do not coerce, or a condition such as
   * `@include(if: $v)` with `$v` null cannot be read. Execution then reports that error itself,
   * before resolving anything.
   */
  forRequest(rc: Request): AnalysedRequest | undefined {
    const memo = this.#byRequest.get(rc.request);
    if (memo !== undefined) return memo ?? undefined;
    const operation = resolvedOperation(rc);
    let result: AnalysedRequest | null = null;
    if (operation !== undefined) {
      const variables = coerceVariables(rc.schema, operation, rc.request.variables);
      if (variables !== undefined) {
        try {
          result = { operation, variables, analysis: this.analyse(rc, operation, variables) };
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
        }
      }
    }
    this.#byRequest.set(rc.request, result);
    return result ?? undefined;
  }

  analyse(rc: Pick<Request, 'schema' | 'document'>, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): OperationAnalysis {
    const costs = costIndexFor(rc.schema);
    let entry = this.#byOperation.get(operation);
    if (!entry) {
      entry = { vars: shapingVariables(rc.document, operation, costs.slicingArgumentNames), analyses: new LRUCache({ max: ENTRIES_PER_OPERATION }) };
      this.#byOperation.set(operation, entry);
    }
    let key = '';
    for (const name of entry.vars) key += `\u0000${JSON.stringify(variables[name])}`;
    let analysis = entry.analyses.get(key);
    if (!analysis) {
      analysis = analyseOperation({ schema: rc.schema, ...(this.#index ? { index: this.#index } : {}), costs, operation, fragments: fragmentsOf(rc.document), variables });
      entry.analyses.set(key, analysis);
    }
    return analysis;
  }
}

