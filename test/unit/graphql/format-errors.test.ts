import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { formatExecutionErrors } from '../../../src/graphql/format-errors.js';

const identity = (formatted: unknown) => formatted as never;

describe('formatExecutionErrors', () => {
  it('gives an error without extensions (a driver error through graphql-jit) the INTERNAL_SERVER_ERROR code', () => {
    const { errors } = formatExecutionErrors([new GraphQLError('boom', { path: ['me', 'email'] })], identity);
    expect(errors).toEqual([{ message: 'boom', path: ['me', 'email'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
  });

  it('keeps an error’s own code and extensions, and defaults a null code', () => {
    const { errors } = formatExecutionErrors(
      [new GraphQLError('denied', { extensions: { code: 'FORBIDDEN', reason: 'missing_scope' } }), new GraphQLError('odd', { extensions: { code: null, detail: 1 } })],
      identity,
    );
    expect(errors).toEqual([
      { message: 'denied', extensions: { code: 'FORBIDDEN', reason: 'missing_scope' } },
      { message: 'odd', extensions: { code: 'INTERNAL_SERVER_ERROR', detail: 1 } },
    ]);
  });

  it('moves extensions.http to the response head and out of the client’s error', () => {
    const headers = new Map([['www-authenticate', 'Bearer error="insufficient_scope"']]);
    const { errors, http } = formatExecutionErrors([new GraphQLError('no', { extensions: { code: 'FORBIDDEN', http: { status: 403, headers } } })], identity);
    expect(errors[0]!.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(http.status).toBe(403);
    expect(http.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
  });

  it('answers a bare internal error when the formatter throws', () => {
    const { errors } = formatExecutionErrors([new Error('secret detail')], () => {
      throw new Error('formatter failed');
    });
    expect(errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
  });
});
