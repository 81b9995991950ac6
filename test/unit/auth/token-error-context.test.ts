import { describe, expect, it } from '@jest/globals';
import { MAX_CONTEXT_LENGTH, TokenError, withTokenContext } from '../../../src/auth/token-error.js';
import { unverifiedContext } from '../../../src/auth/unverified-token.js';

describe('TokenError context for the rejection log line', () => {
  it('has only the reason when nothing is known', () => {
    expect(new TokenError('malformed').logFields()).toEqual({ reason: 'malformed' });
  });

  it('keeps strings only, cut to a bounded length', () => {
    const error = new TokenError('wrong_issuer', { issuer: 'x'.repeat(5000), clientId: 42 as unknown as string, subject: '' });
    expect(error.issuer).toHaveLength(MAX_CONTEXT_LENGTH);
    expect(error.logFields()).toEqual({ reason: 'wrong_issuer', issuer: 'x'.repeat(MAX_CONTEXT_LENGTH) });
  });

  it('fills in only what the error does not know, keeping reason and cause', () => {
    const cause = new Error('jose detail');
    const original = new TokenError('bad_signature', { cause, subject: 'verified-sub' });
    const merged = withTokenContext(original, { issuer: 'https://as.example', clientId: 'app', subject: 'claimed-sub' });
    expect(merged).toBeInstanceOf(TokenError);
    expect((merged as TokenError).logFields()).toEqual({ reason: 'bad_signature', issuer: 'https://as.example', clientId: 'app', subject: 'verified-sub' });
    expect((merged as TokenError).cause).toBe(cause);
    const other = new Error('not a token error');
    expect(withTokenContext(other, { issuer: 'x' })).toBe(other);
  });

  it('reads iss, client_id (or azp, cid) and sub from an unverified payload', () => {
    expect(unverifiedContext({ iss: 'https://as.example', azp: 'spa', sub: 'alice' })).toEqual({ issuer: 'https://as.example', clientId: 'spa', subject: 'alice' });
    expect(unverifiedContext({ iss: 7, cid: 'okta-app' })).toEqual({ issuer: undefined, clientId: 'okta-app', subject: undefined });
    expect(unverifiedContext(undefined)).toEqual({});
  });
});
