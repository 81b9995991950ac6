import { describe, expect, it } from '@jest/globals';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { ANONYMOUS } from '../../../src/auth/principal.js';
import type { OperationPlan } from '../../../src/authz/operation-plan.js';
import { PlanCache } from '../../../src/authz/plan-cache.js';
import { NO_REQUIREMENT } from '../../../src/authz/requirement.js';
import { userPrincipal } from '../../fixtures/principals.js';

const document = parse('query ($a: Boolean!) { me @include(if: $a) { id } ...F } fragment F on Query { products @skip(if: $b) { id } }');
const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;

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
    const p1 = cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x', 'y'] }), { a: true }, c.compute);
    const p2 = cache.getOrCompute(document, operation, userPrincipal('b', { scopes: ['y', 'x'] }), { a: true }, c.compute);
    expect(p2).toBe(p1);
    expect(c.calls).toBe(1);
  });

  it('keeps plans apart for other scope sets, principal kinds and @skip/@include values', () => {
    const cache = new PlanCache();
    const c = counting();
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x'] }), { a: true }, c.compute);
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x', 'y'] }), { a: true }, c.compute);
    cache.getOrCompute(document, operation, ANONYMOUS, { a: true }, c.compute);
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x'] }), { a: false }, c.compute);
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x'] }), { a: true, b: true }, c.compute);
    expect(c.calls).toBe(5);
    // A variable that no @skip/@include reads does not split the cache.
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['x'] }), { a: true, other: 1 }, c.compute);
    expect(c.calls).toBe(5);
  });

  it('is bounded per operation', () => {
    const cache = new PlanCache(2);
    const c = counting();
    for (const s of ['1', '2', '3']) cache.getOrCompute(document, operation, userPrincipal('a', { scopes: [s] }), { a: true }, c.compute);
    cache.getOrCompute(document, operation, userPrincipal('a', { scopes: ['1'] }), { a: true }, c.compute);
    expect(c.calls).toBe(4);
  });
});
