import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '../../../src/errors.js';
import { graphqlErrorBody } from '../../../src/http/graphql-error-body.js';

describe('graphqlErrorBody', () => {
  it('answers one request error with no data, its code and detail in extensions', () => {
    expect(JSON.parse(graphqlErrorBody(ErrorCode.BATCH_LIMIT_EXCEEDED, 'too many', { limit: 2, received: 3 }))).toEqual({
      errors: [{ message: 'too many', extensions: { code: 'BATCH_LIMIT_EXCEEDED', limit: 2, received: 3 } }],
    });
  });

  it('keeps its code when a detail is named code', () => {
    const body = JSON.parse(graphqlErrorBody(ErrorCode.PAYLOAD_TOO_LARGE, 'big', { code: 'SOMETHING_ELSE' }));
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
