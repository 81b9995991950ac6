import { decodeBase64urlJsonObject } from '../lib/base64url-json.js';
import { clientIdOf } from './claims-principal.js';
import type { TokenErrorContext } from './token-error.js';

/** What a token says about itself before any verification. Nothing here may be trusted. */
export type UnverifiedToken =
  /** A compact JWS: three base64url parts whose first is a JSON object header with an `alg`. */
  | { readonly kind: 'jwt'; readonly payload: Readonly<Record<string, unknown>> | undefined }
  /** Anything else: an opaque reference token (or a JWE), for introspection. */
  | { readonly kind: 'opaque' };


/**
 * Tells a JWT from an opaque token and, for a JWT, decodes its payload without verifying anything,
 * so the token can be routed to its issuer's verifier and its rejection logged with who sent it.
 * `payload` is undefined when the payload is not a base64url JSON object.
 */
export function peekToken(token: string): UnverifiedToken {
  const parts = token.split('.');
  if (parts.length !== 3) return { kind: 'opaque' };
  const header = decodeBase64urlJsonObject(parts[0]!);
  if (header === undefined || typeof header['alg'] !== 'string') return { kind: 'opaque' };
  return { kind: 'jwt', payload: decodeBase64urlJsonObject(parts[1]!) };
}

/** The unverified `iss`, client id and `sub` of a payload, for log lines. */
export function unverifiedContext(payload: Readonly<Record<string, unknown>> | undefined): TokenErrorContext {
  if (payload === undefined) return {};
  return {
    issuer: stringField(payload, 'iss'),
    clientId: clientIdOf(payload),
    subject: stringField(payload, 'sub'),
  };
}


function stringField(payload: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
