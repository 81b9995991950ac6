import { describe, expect, it } from '@jest/globals';
import { locatedError, parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { denialError } from '../../../src/authz/denial-error.js';
import type { Denial } from '../../../src/authz/requirement.js';
import { ErrorCode } from '../../../src/errors.js';

const denial = (missing: string[], accepted: string[][] = []): Denial => ({
  allowed: false,
  reason: 'insufficient_scope',
  requiredScopes: ['read:profile', ...missing],
  missingScopes: missing,
  acceptedScopeSets: accepted,
});

describe('denialError', () => {
  it('names the required and missing scopes and the accepted alternatives', () => {
    const error = denialError(denial(['read:orders'], [['read:profile', 'read:orders'], ['admin:orders']]));
    expect(error.message).toBe('Insufficient scope: requires read:profile read:orders');
    expect(error.extensions).toEqual({
      code: ErrorCode.FORBIDDEN,
      reason: 'insufficient_scope',
      requiredScopes: ['read:profile', 'read:orders'],
      missingScopes: ['read:orders'],
      acceptedScopeSets: [['read:profile', 'read:orders'], ['admin:orders']],
    });
    const anonymous = denialError({ allowed: false, reason: 'no_token', requiredScopes: ['read:orders'], missingScopes: ['read:orders'], acceptedScopeSets: [] });
    expect(anonymous.extensions['code']).toBe(ErrorCode.UNAUTHENTICATED);
    expect(anonymous.extensions).not.toHaveProperty('acceptedScopeSets');
  });

  it('is one frozen error per distinct denial, shared between requests, and never another denial\'s', () => {
    const first = denialError(denial(['read:orders']));
    expect(denialError(denial(['read:orders']))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.extensions)).toBe(true);
    expect(Object.isFrozen(first.extensions['missingScopes'])).toBe(true);
    // Another scope, another reason, other alternatives: other errors.
    expect(denialError(denial(['write:orders']))).not.toBe(first);
    expect(denialError({ ...denial(['read:orders']), reason: 'user_required' })).not.toBe(first);
    expect(denialError(denial(['read:orders'], [['a', 'b'], ['c']]))).not.toBe(denialError(denial(['read:orders'], [['a'], ['b', 'c']])));
  });

  it('does not keep the caller\'s arrays: changing them later changes no shared error', () => {
    const missing = ['read:email'];
    const error = denialError(denial(missing));
    missing.push('write:orders');
    expect(error.extensions['missingScopes']).toEqual(['read:email']);
  });

  it('is wrapped, not changed, when the executor locates it at a field', () => {
    const error = denialError(denial(['read:orders']));
    const field = (parse('{ me { orders } }').definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode;
    const located = locatedError(error, [field], ['me', 'orders']);
    expect(located).not.toBe(error);
    expect(located.path).toEqual(['me', 'orders']);
    expect(located.extensions).toEqual(error.extensions);
    expect(error.path).toBeUndefined();
  });
});
