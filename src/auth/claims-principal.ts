import type { ClientPrincipal, UserPrincipal } from './principal.js';
import { parseScopes } from './scope-claim.js';
import { TokenError } from './token-error.js';

/**
 * Builds the frozen principal for a verified token's claims.
 *
 * - client id: `client_id` (RFC 9068 §2.2), else `azp`, else `cid` (Okta).
 * - `client` when `sub` is absent or equals the client id (RFC 9068 §2.2: for client credentials
 *   grants `sub` identifies the client), otherwise `user`.
 * - name: `name`, else `preferred_username`.
 *
 * Claims of the wrong JSON type are treated as absent, except `sub`, which must be a string when
 * present, and `cnf`: a confirmation we cannot read must not turn a sender-constrained token into
 * a bearer token, so it fails closed.
 *
 * @param issuer The verified `iss`.
 * @throws {TokenError} `invalid_claim` when `sub` is not a string, or `cnf` is present without a
 *   usable `jkt` (not an object, a non-string `jkt`, or only confirmation methods we do not verify,
 *   such as mTLS `x5t#S256`); `missing_claim` when there is neither `sub` nor a client id, so
 *   nobody could be named.
 */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
  issuer: string,
): UserPrincipal | ClientPrincipal {
  const sub = claims['sub'];
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0)) throw new TokenError('invalid_claim');
  const clientId = clientIdOf(claims);
  const confirmationJkt = confirmationThumbprint(claims['cnf']);
  const issuedAt = numberClaim(claims['iat']);

  const common = {
    issuer,
    clientId,
    scopes: parseScopes(claims),
    audience: Object.freeze(audienceList(claims['aud'])),
    expiresAt: numberClaim(claims['exp']),
    ...(issuedAt !== undefined ? { issuedAt } : {}),
    tokenId: stringClaim(claims['jti']),
    acr: stringClaim(claims['acr']),
    authTime: numberClaim(claims['auth_time']),
    name: firstString(claims, ['name', 'preferred_username']),
    ...(confirmationJkt !== undefined ? { confirmationJkt } : {}),
  };

  if (sub === undefined || sub === clientId) {
    const subject = sub ?? clientId;
    if (subject === undefined) throw new TokenError('missing_claim');
    return Object.freeze<ClientPrincipal>({ kind: 'client', subject, ...common });
  }
  return Object.freeze<UserPrincipal>({ kind: 'user', subject: sub, ...common });
}

/** RFC 9449 §6.1: `cnf.jkt`, the base64url SHA-256 JWK thumbprint of the key the token is bound to. */
function confirmationThumbprint(cnf: unknown): string | undefined {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw new TokenError('invalid_claim');
  const jkt = (cnf as Record<string, unknown>)['jkt'];
  if (typeof jkt !== 'string' || !/^[A-Za-z0-9_-]+$/.test(jkt)) throw new TokenError('invalid_claim');
  return jkt;
}

function audienceList(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((member): member is string => typeof member === 'string');
  return [];
}

/** The client id a token or introspection answer names: `client_id` (RFC 9068 §2.2), else `azp`, else `cid` (Okta). */
export function clientIdOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  return firstString(claims, ['client_id', 'azp', 'cid']);
}

function firstString(claims: Readonly<Record<string, unknown>>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = stringClaim(claims[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function numberClaim(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
