import { describe, expect, it } from '@jest/globals';
import { type BearerRequest, extractCredentials } from '../../../src/http/credentials.js';
import { DpopRequestError } from '../../../src/auth/dpop/dpop-errors.js';
import { InvalidRequestError } from '../../../src/auth/token-error.js';

const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJQT1NUIn0.c2ln';

/** A request as Node parses it: `headers` keeps the first Authorization and joins repeated DPoP headers with ", ". */
function request(headers: Array<[string, string]>): BearerRequest {
  const parsed: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (key === 'authorization') parsed[key] ??= value.trim();
    else parsed[key] = parsed[key] === undefined ? value.trim() : `${parsed[key]}, ${value.trim()}`;
  }
  return { headers: parsed, rawHeaders: headers.flat() };
}

function reasonOf(req: BearerRequest): string {
  try {
    extractCredentials(req, { dpop: true });
  } catch (error) {
    if (error instanceof InvalidRequestError || error instanceof DpopRequestError) return `${error.name}:${error.reason}`;
    throw error;
  }
  return 'no error';
}

describe('extractCredentials with DPoP (RFC 9449 §7.1)', () => {
  it.each(['DPoP', 'dpop', 'DPOP'])('returns the token and the proof for the %s scheme', (scheme) => {
    expect(extractCredentials(request([['Authorization', `${scheme} abc.def.ghi`], ['DPoP', PROOF]]), { dpop: true })).toEqual({ kind: 'dpop', token: 'abc.def.ghi', proof: PROOF });
  });

  it('trims the proof header value', () => {
    expect(extractCredentials(request([['Authorization', 'DPoP abc'], ['DPoP', `  ${PROOF} `]]), { dpop: true })).toMatchObject({ proof: PROOF });
  });

  it('refuses the DPoP scheme without a DPoP header (400 invalid_request)', () => {
    expect(reasonOf(request([['Authorization', 'DPoP abc']]))).toBe('DpopRequestError:missing_proof');
  });

  it('refuses two DPoP headers (§4.3 step 1)', () => {
    expect(reasonOf(request([['Authorization', 'DPoP abc'], ['DPoP', PROOF], ['dpop', PROOF]]))).toBe('DpopRequestError:duplicate_proof');
  });

  it('refuses two proofs Node has joined into one value, even without rawHeaders', () => {
    expect(reasonOf({ headers: { authorization: 'DPoP abc', dpop: `${PROOF}, ${PROOF}` }, rawHeaders: [] })).toBe('DpopRequestError:duplicate_proof');
  });

  it.each([
    ['DPoP', 'InvalidRequestError:malformed_authorization'],
    ['DPoP a b', 'InvalidRequestError:malformed_authorization'],
    ['DPoP "abc"', 'InvalidRequestError:malformed_authorization'],
  ])('refuses the malformed %j', (header, expected) => {
    expect(reasonOf(request([['Authorization', header], ['DPoP', PROOF]]))).toBe(expected);
  });

  it('refuses two Authorization headers whatever their schemes', () => {
    expect(reasonOf(request([['Authorization', 'DPoP abc'], ['Authorization', 'Bearer abc'], ['DPoP', PROOF]]))).toBe('InvalidRequestError:duplicate_credentials');
  });

  it('ignores a DPoP header beside the Bearer scheme (a bound token is refused after verification)', () => {
    expect(extractCredentials(request([['Authorization', 'Bearer abc'], ['DPoP', PROOF]]), { dpop: true })).toEqual({ kind: 'bearer', token: 'abc' });
  });

  it('ignores a DPoP header without an Authorization header', () => {
    expect(extractCredentials(request([['DPoP', PROOF]]), { dpop: true })).toEqual({ kind: 'none' });
  });

  it('refuses the DPoP scheme as unsupported when DPoP is not enabled', () => {
    const req = request([['Authorization', 'DPoP abc'], ['DPoP', PROOF]]);
    for (const options of [undefined, { dpop: false }]) {
      expect(() => extractCredentials(req, options)).toThrow(InvalidRequestError);
      expect(() => extractCredentials(req, options)).toThrow(expect.objectContaining({ reason: 'unsupported_scheme' }) as unknown as Error);
    }
  });
});
