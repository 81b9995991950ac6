import type { TokenErrorContext } from './token-error.js';

/** What a token says about itself before any verification. Nothing here may be trusted. */
export type UnverifiedToken =
  /** A compact JWS: three base64url parts whose first is a JSON object header with an `alg`. */
  | { readonly kind: 'jwt'; readonly payload: Readonly<Record<string, unknown>> | undefined }
  /** Anything else: an opaque reference token (or a JWE), for introspection. */
  | { readonly kind: 'opaque' };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Tells a JWT from an opaque token and, for a JWT, decodes its payload without verifying anything,
 * so the token can be routed to its issuer's verifier and its rejection logged with who sent it.
 * `payload` is undefined when the payload is not a base64url JSON object.
 */
export function peekToken(token: string): UnverifiedToken {
  const parts = token.split('.');
  if (parts.length !== 3) return { kind: 'opaque' };
  const header = decodeObject(parts[0]!);
  if (header === undefined || typeof header['alg'] !== 'string') return { kind: 'opaque' };
  return { kind: 'jwt', payload: decodeObject(parts[1]!) };
}

/** The unverified `iss`, client id and `sub` of a payload, for log lines. */
export function unverifiedContext(payload: Readonly<Record<string, unknown>> | undefined): TokenErrorContext {
  if (payload === undefined) return {};
  return {
    issuer: stringField(payload, 'iss'),
    clientId: stringField(payload, 'client_id') ?? stringField(payload, 'azp') ?? stringField(payload, 'cid'),
    subject: stringField(payload, 'sub'),
  };
}

function decodeObject(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(payload: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
