import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import { createTokenVerifier } from '../../../../src/auth/jwt/jwt-verifier.js';
import { createSigningKey, startAuthorizationServer, type TestAuthorizationServer } from '../../../fixtures/authorization-server.js';
import { reasonOf } from '../../../fixtures/tokens.js';

const AUDIENCE = 'https://api.example/graphql';
const SCOPES = ['read:orders'];
const COOLDOWN_MS = 100;
const MAX_AGE_MS = 200;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe('signing key rotation at the authorization server', () => {
  it('verifies tokens signed with a new key without restarting, and keeps the last good keys while the server is down', async () => {
    const oldKey = await createSigningKey('RS256');
    const newKey = await createSigningKey('RS256');
    const ecKey = await createSigningKey('ES256');
    let as: TestAuthorizationServer | undefined = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, signingKeys: [oldKey, ecKey] });
    const port = Number(new URL(as.issuer).port);
    // No verified-token cache: every verification below goes through the key set.
    const verifier = createTokenVerifier({ issuer: as.issuer, audience: AUDIENCE, jwksCooldownMs: COOLDOWN_MS, jwksCacheMaxAgeMs: MAX_AGE_MS });
    try {
      await verifier.ready();
      const beforeRotation = await as.clientCredentialsToken('read:orders');
      const keptForLater = await as.clientCredentialsToken('read:orders');
      expect(decodeProtectedHeader(beforeRotation).kid).toBe(oldKey.kid);
      await expect(reasonOf(verifier.verify(beforeRotation))).resolves.toBe('accepted');

      // 1. The authorization server goes away; the cached keys grow older than their max age and
      //    every refresh fails, yet tokens signed with the last known key still verify.
      await as.close();
      as = undefined;
      await pause(MAX_AGE_MS + 50);
      await expect(reasonOf(verifier.verify(keptForLater))).resolves.toBe('accepted');
      await pause(COOLDOWN_MS + 50);
      await expect(reasonOf(verifier.verify(keptForLater))).resolves.toBe('accepted');
      expect(verifier.status().ready).toBe(true);

      // 2. It comes back on the same port having rotated: signs with a new key, still publishes the old one.
      await pause(COOLDOWN_MS + 50);
      as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port, signingKeys: [newKey, oldKey, ecKey] });
      const afterRotation = await as.clientCredentialsToken('read:orders');
      expect(decodeProtectedHeader(afterRotation).kid).toBe(newKey.kid);
      await expect(reasonOf(verifier.verify(afterRotation))).resolves.toBe('accepted');
      await expect(reasonOf(verifier.verify(beforeRotation))).resolves.toBe('accepted');

      // 3. Rotation completes: the old key is withdrawn, and once the key set is refreshed its tokens are refused.
      await as.close();
      as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, port, signingKeys: [newKey, ecKey] });
      await pause(MAX_AGE_MS + 50);
      await expect(reasonOf(verifier.verify(afterRotation))).resolves.toBe('accepted');
      await expect(reasonOf(verifier.verify(beforeRotation))).resolves.toBe('unknown_key');
    } finally {
      verifier.close();
      await as?.close();
    }
  });
});
