import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';

import { AppError, ErrorCode, NotFoundError } from '../../src/errors.js';

describe('AppError', () => {
  it('is a GraphQL error whose extensions carry the code and the detail', () => {
    const error = new AppError(ErrorCode.FORBIDDEN, 'Insufficient scope', { missingScopes: ['read:orders'] });
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.extensions).toEqual({ missingScopes: ['read:orders'], code: 'FORBIDDEN' });
    expect(error.code).toBe(ErrorCode.FORBIDDEN);
  });

  it('carries no stack frames (an expected outcome, not a fault), and leaves stack traces on for everything else', () => {
    const limit = Error.stackTraceLimit;
    const error = new NotFoundError('Order');
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('fault').stack).toMatch(/\n\s+at /);
    // Wrapped with its path, as GraphQL does for a resolver's error: still no frames to format.
    const located = new GraphQLError(error.message, { originalError: error, path: ['order'] });
    expect(located.stack).not.toMatch(/\n\s+at /);
  });
});
