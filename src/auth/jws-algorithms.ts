/**
 * Asymmetric JWS algorithms an access token or a DPoP proof may be signed with. HMAC and `none`
 * are never accepted (RFC 8725 §3.1, RFC 9449 §4.3 step 5).
 */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
