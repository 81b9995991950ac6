import { describe, expect, it } from '@jest/globals';
import { extractCredentials, type BearerRequest } from '../../../src/http/credentials.js';
import { MAX_TOKEN_LENGTH } from '../../../src/auth/token-limits.js';
import { InvalidRequestError, TokenError } from '../../../src/auth/token-error.js';

function request(authorization: string[] | undefined, extra: Partial<BearerRequest> = {}): BearerRequest {
  const values = authorization ?? [];
  return {
    // Node keeps only the first Authorization header in `headers`.
    headers: values.length > 0 ? { authorization: values[0]!.trim() } : {},
    rawHeaders: values.flatMap((value, i) => [i % 2 === 0 ? 'Authorization' : 'authorization', value]),
    ...extra,
  };
}

function reasonOf(req: BearerRequest): string {
  try {
    extractCredentials(req);
  } catch (error) {
    if (error instanceof InvalidRequestError || error instanceof TokenError) return `${error.name}:${error.reason}`;
    throw error;
  }
  return 'no error';
}

describe('extractCredentials with the Bearer scheme (RFC 6750 §2.1)', () => {
  it('returns none when there is no Authorization header', () => {
    expect(extractCredentials(request(undefined))).toEqual({ kind: 'none' });
  });

  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['BeArEr abc', 'abc'],
    ['Bearer a-b_c.d~e+f/g==', 'a-b_c.d~e+f/g=='],
    ['Bearer   abc', 'abc'],
    ['  Bearer abc  ', 'abc'],
  ])('accepts %j', (header, token) => {
    expect(extractCredentials(request([header]))).toEqual({ kind: 'bearer', token });
  });

  it.each([
    ['Bearer', 'InvalidRequestError:malformed_authorization'],
    ['Bearer ', 'InvalidRequestError:malformed_authorization'],
    ['', 'InvalidRequestError:malformed_authorization'],
    ['Bearer abc def', 'InvalidRequestError:malformed_authorization'],
    ['Bearer abc,def', 'InvalidRequestError:malformed_authorization'],
    ['Bearer "abc"', 'InvalidRequestError:malformed_authorization'],
    ['Bearer a=b', 'InvalidRequestError:malformed_authorization'],
    ['Bearer\tabc', 'InvalidRequestError:malformed_authorization'],
    ['Bearerabc', 'InvalidRequestError:unsupported_scheme'],
    [' ', 'InvalidRequestError:malformed_authorization'],
    ['Basic dXNlcjpwYXNz', 'InvalidRequestError:unsupported_scheme'],
    ['DPoP abc.def.ghi', 'InvalidRequestError:unsupported_scheme'],
    ['Token abc', 'InvalidRequestError:unsupported_scheme'],
    ['abc.def.ghi', 'InvalidRequestError:unsupported_scheme'],
  ])('refuses %j', (header, expected) => {
    expect(reasonOf(request([header]))).toBe(expected);
  });

  it('refuses two Authorization headers even though Node keeps only the first in headers', () => {
    expect(reasonOf(request(['Bearer abc', 'Bearer def']))).toBe('InvalidRequestError:duplicate_credentials');
    expect(reasonOf(request(['Bearer abc', 'Basic dXNlcjpwYXNz']))).toBe('InvalidRequestError:duplicate_credentials');
  });

  it('refuses duplicates given as an array in headers', () => {
    expect(reasonOf({ headers: { authorization: ['Bearer a', 'Bearer b'] }, rawHeaders: [] })).toBe(
      'InvalidRequestError:duplicate_credentials',
    );
  });

  it('uses rawHeaders when headers lack the Authorization entry', () => {
    expect(extractCredentials({ headers: {}, rawHeaders: ['authorization', 'Bearer abc'] })).toEqual({ kind: 'bearer', token: 'abc' });
  });

  it.each([
    ['query object with a header', request(['Bearer abc'], { query: { access_token: 'abc' } }), 'InvalidRequestError:token_in_query'],
    ['query object without a header', request(undefined, { query: { access_token: 'abc' } }), 'InvalidRequestError:token_in_query'],
    ['empty access_token in the query', request(undefined, { query: { access_token: '' } }), 'InvalidRequestError:token_in_query'],
    ['URLSearchParams query', request(undefined, { query: new URLSearchParams('access_token=abc') }), 'InvalidRequestError:token_in_query'],
    ['form body with a header', request(['Bearer abc'], { body: { access_token: 'abc' } }), 'InvalidRequestError:token_in_body'],
    ['form body without a header', request(undefined, { body: { access_token: 'abc' } }), 'InvalidRequestError:token_in_body'],
  ])('refuses an access_token parameter: %s', (_name, req, expected) => {
    expect(reasonOf(req)).toBe(expected);
  });

  it('ignores unrelated query and body members', () => {
    const req = request(['Bearer abc'], { query: { accessToken: 'x' }, body: { query: '{ me { id } }', variables: { access_token: 'x' } } });
    expect(extractCredentials(req)).toEqual({ kind: 'bearer', token: 'abc' });
  });

  it('refuses tokens over 8 KiB as too_large before looking at them', () => {
    expect(extractCredentials(request([`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`]))).toEqual({ kind: 'bearer', token: 'a'.repeat(MAX_TOKEN_LENGTH) });
    expect(reasonOf(request([`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`]))).toBe('TokenError:too_large');
    expect(reasonOf(request([`Bearer ${'"'.repeat(MAX_TOKEN_LENGTH + 1)}`]))).toBe('TokenError:too_large');
  });

  it('never puts the token in the error message', () => {
    try {
      extractCredentials(request(['Bearer secret-token-value with-space']));
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret-token-value');
      expect((error as InvalidRequestError).description).not.toContain('secret-token-value');
    }
    expect.assertions(2);
  });
});
