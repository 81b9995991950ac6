import { AuthServiceUnavailableError } from '../token-error.js';

/** Options for {@link introspectToken}. */
export interface IntrospectionRequestOptions {
  /** The introspection endpoint (RFC 7662 §2). */
  endpoint: string;
  /** This resource server's client id at the authorization server. */
  clientId: string;
  /** Its client secret; sent with `client_secret_basic` (RFC 6749 §2.3.1), never logged. */
  clientSecret: string;
  /** Timeout for the whole request, in milliseconds. Default: 5000. */
  timeoutMs?: number;
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Default timeout of an introspection request, in milliseconds. */
export const DEFAULT_INTROSPECTION_TIMEOUT_MS = 5000;

/** Largest introspection response accepted, in characters. */
const MAX_RESPONSE_LENGTH = 64 * 1024;

/**
 * Asks the authorization server about `token` (RFC 7662 §2.1) and returns its JSON answer, which
 * has a boolean `active` and is otherwise unchecked.
 *
 * @throws {AuthServiceUnavailableError} `introspection_unavailable` when the endpoint cannot be
 *   reached, times out, redirects, answers anything but 200 (including 401 for wrong client
 *   credentials), or its body is not a JSON object with a boolean `active`. The message names
 *   the endpoint and what went wrong, never the token or the secret.
 */
export async function introspectToken(token: string, options: IntrospectionRequestOptions): Promise<Record<string, unknown>> {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_INTROSPECTION_TIMEOUT_MS;
  const where = `introspection endpoint ${options.endpoint}`;
  const unavailable = (detail: string, cause?: unknown): AuthServiceUnavailableError =>
    new AuthServiceUnavailableError('introspection_unavailable', `${where}: ${detail}`, cause === undefined ? undefined : { cause: scrub(cause) });

  let response: Response;
  try {
    response = await fetchImpl(options.endpoint, {
      method: 'POST',
      headers: {
        authorization: basicCredentials(options.clientId, options.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      // RFC 7662 §2.1: the token goes in the form body, never in the URL.
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      // Client credentials must not follow a redirect anywhere.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw unavailable(error instanceof Error && error.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'request failed', error);
  }

  let body: string;
  try {
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(`HTTP ${response.status}`);
    }
    body = await response.text();
  } catch (error) {
    if (error instanceof AuthServiceUnavailableError) throw error;
    throw unavailable(error instanceof Error && error.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'response not readable', error);
  }
  if (body.length > MAX_RESPONSE_LENGTH) throw unavailable('response too large');

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw unavailable('response is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unavailable('response is not a JSON object');
  // RFC 7662 §2.2: "active" is REQUIRED and boolean; anything else is not an answer.
  if (typeof (parsed as { active?: unknown }).active !== 'boolean') throw unavailable('response has no boolean "active"');
  return parsed as Record<string, unknown>;
}

function basicCredentials(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** A network error's code only (undici's errors can carry request details we do not want logged). */
function scrub(error: unknown): Error {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return new Error(typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error');
}
