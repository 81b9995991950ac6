import { describe, expect, it } from '@jest/globals';
import { bearerChallenge } from '../../../src/auth/www-authenticate.js';

describe('bearerChallenge', () => {
  it.each<[string, Parameters<typeof bearerChallenge>[0], string]>([
    ['no parameters', {}, 'Bearer'],
    ['realm only', { realm: 'orders-api' }, 'Bearer realm="orders-api"'],
    [
      'RFC 6750 §3 invalid_token example',
      { realm: 'example', error: 'invalid_token', errorDescription: 'The access token expired' },
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    ],
    [
      'insufficient_scope with scopes',
      { error: 'insufficient_scope', scope: ['read:orders', 'write:orders'] },
      'Bearer error="insufficient_scope", scope="read:orders write:orders"',
    ],
    [
      'RFC 9728 resource_metadata',
      { resourceMetadata: 'https://api.example/.well-known/oauth-protected-resource' },
      'Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource"',
    ],
    [
      'all parameters in a fixed order',
      { resourceMetadata: 'https://r', scope: ['a'], errorDescription: 'd', error: 'invalid_request', realm: 'r' },
      'Bearer realm="r", error="invalid_request", error_description="d", scope="a", resource_metadata="https://r"',
    ],
  ])('%s', (_name, params, expected) => {
    expect(bearerChallenge(params)).toBe(expected);
  });

  it('escapes quotes and backslashes in quoted-strings', () => {
    expect(bearerChallenge({ realm: 'a "quoted" \\ realm' })).toBe('Bearer realm="a \\"quoted\\" \\\\ realm"');
  });

  it('drops characters error_description may not contain (RFC 6750 §3)', () => {
    expect(bearerChallenge({ error: 'invalid_token', errorDescription: 'bad "token" \\ é\u0000\tdone' })).toBe(
      'Bearer error="invalid_token", error_description="bad token  done"',
    );
  });

  it('cannot be used to inject header lines', () => {
    const header = bearerChallenge({ realm: 'x\r\nSet-Cookie: a=b', errorDescription: 'y\r\nX: z', resourceMetadata: 'https://r\n' });
    expect(header).not.toMatch(/[\r\n]/);
  });

  it('drops scope values that are not scope-tokens and omits an empty scope list', () => {
    expect(bearerChallenge({ error: 'insufficient_scope', scope: ['ok', 'has space', 'quo"te', ''] })).toBe(
      'Bearer error="insufficient_scope", scope="ok"',
    );
    expect(bearerChallenge({ error: 'insufficient_scope', scope: [] })).toBe('Bearer error="insufficient_scope"');
  });
});
