import type { ErrorCode, ErrorDetail } from '../errors.js';

/**
 * A GraphQL response holding one request error (no `data`: nothing was executed), for answers the
 * HTTP layer gives before Apollo Server sees the request, in the shape Apollo gives its own.
 */
export function graphqlErrorBody(code: ErrorCode, message: string, detail: ErrorDetail = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...detail, code } }] });
}
