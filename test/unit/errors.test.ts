import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';

import { InvalidRequestError, TokenError } from '../../src/auth/token-error.js';
import { AppError, ErrorCode, NotFoundError, withoutStackTrace } from '../../src/errors.js';

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

describe('errors for expected outcomes carry no stack frames', () => {
  it.each([
    ['a refused token', () => new TokenError('bad_signature', { cause: new Error('signature verification failed') })],
    ['a malformed request', () => new InvalidRequestError('duplicate_credentials')],
    ['an error built by withoutStackTrace', () => withoutStackTrace(() => new GraphQLError('Invalid access token'))],
  ])('%s, and stack traces stay on for everything else', (_name, make) => {
    const limit = Error.stackTraceLimit;
    const error = make();
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('fault').stack).toMatch(/\n\s+at /);
  });

  it('keeps the cause of a refused token, with its own stack, for the log', () => {
    const cause = new Error('signature verification failed');
    const error = new TokenError('bad_signature', { cause });
    expect(error.cause).toBe(cause);
    expect(cause.stack).toMatch(/\n\s+at /);
  });

  it('restores the stack trace limit when building the error throws', () => {
    const limit = Error.stackTraceLimit;
    expect(() =>
      withoutStackTrace(() => {
        throw new TypeError('bad');
      }),
    ).toThrow(TypeError);
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
