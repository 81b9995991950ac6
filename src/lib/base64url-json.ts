import { isUtf8 } from 'node:buffer';

/** A non-empty base64url segment without padding (RFC 7515 §2, the JWS compact form's parts). */
export function isBase64url(segment: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(segment);
}

/**
 * The JSON object a base64url segment encodes (a JOSE header or a JWT claims set), or undefined
 * when the segment is not base64url, not JSON, or not an object. Callers answer with their own
 * coded error; the input is never echoed.
 */
export function decodeBase64urlJsonObject(segment: string, options: { readonly strictUtf8?: boolean } = {}): Record<string, unknown> | undefined {
  if (!isBase64url(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Strict: bytes that are not UTF-8 are refused rather than read as U+FFFD (a verified claims set, RFC 7519 §7.2 step 10).
  if (options.strictUtf8 === true && !isUtf8(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
