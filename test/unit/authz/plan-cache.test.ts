import { describe, expect, it } from '@jest/globals';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { ANONYMOUS } from '../../../src/auth/principal.js';
import { OperationAnalyzer } from '../../../src/authz/operation-analyzer.js';
import { type OperationPlan, coerceVariables } from '../../../src/authz/operation-plan.js';
import { PlanCache } from '../../../src/authz/plan-cache.js';
import { NO_REQUIREMENT } from '../../../src/authz/requirement.js';
import { userPrincipal } from '../../fixtures/principals.js';

import { buildSchema } from '../../../src/graphql/schema.js';

const { schema, index } = buildSchema();
const document = parse('query ($a: Boolean!, $b: Boolean = false) { me @include(if: $a) { id } ...F } fragment F on Query { products @skip(if: $b) { edges { cursor } } }');
const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
const analyzer = new OperationAnalyzer(index);
/** The analysis the server would use for these raw variables (one per value of $a and $b). */
const analysis = (variables: Record<string, unknown>) => analyzer.analyse({ schema, document }, operation, coerceVariables(schema, operation, variables)!);

function counting() {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    compute: (): OperationPlan => {
      calls += 1;
      return { operationType: 'query', rootFields: [], denied: [], deniedUnlisted: 0, requirement: NO_REQUIREMENT };
    },
  };
}

describe('authorization plan cache', () => {
  it('computes a plan once per operation and scope set', () => {
    const cache = new PlanCache();
    const c = counting();
    const p1 = cache.getOrCompute(analysis({ a: true }), userPrincipal('a', { scopes: ['x', 'y'] }), c.compute);
    const p2 = cache.getOrCompute(analysis({ a: true }), userPrincipal('b', { scopes: ['y', 'x'] }), c.compute);
    expect(p2).toBe(p1);
    expect(c.calls).toBe(1);
  });

  it('keeps plans apart for other scope sets, principal kinds and @skip/@include values', () => {
    const cache = new PlanCache();
    const c = counting();
    cache.getOrCompute(analysis({ a: true }), userPrincipal('a', { scopes: ['x'] }), c.compute);
    cache.getOrCompute(analysis({ a: true }), userPrincipal('a', { scopes: ['x', 'y'] }), c.compute);
    cache.getOrCompute(analysis({ a: true }), ANONYMOUS, c.compute);
    cache.getOrCompute(analysis({ a: false }), userPrincipal('a', { scopes: ['x'] }), c.compute);
    cache.getOrCompute(analysis({ a: true, b: true }), userPrincipal('a', { scopes: ['x'] }), c.compute);
    expect(c.calls).toBe(5);
    // A variable that no @skip/@include reads does not split the cache.
    cache.getOrCompute(analysis({ a: true, other: 1 }), userPrincipal('a', { scopes: ['x'] }), c.compute);
    expect(c.calls).toBe(5);
  });

  it('is bounded per analysis', () => {
    const cache = new PlanCache(2);
    const c = counting();
    for (const s of ['1', '2', '3']) cache.getOrCompute(analysis({ a: true }), userPrincipal('a', { scopes: [s] }), c.compute);
    cache.getOrCompute(analysis({ a: true }), userPrincipal('a', { scopes: ['1'] }), c.compute);
    expect(c.calls).toBe(4);
  });
});
