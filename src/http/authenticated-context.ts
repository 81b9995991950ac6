import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { DenialSink } from '../authz/operation-decision.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { RequestObserver } from '../lib/request-observer.js';
import { authenticate } from './authentication.js';
import type { AuthenticationSetup } from './authentication-setup.js';

/** What a request context is built from once the caller is known. */
export interface AuthenticatedRequest {
  readonly requestId: string;
  readonly principal: Principal;
  /** The request's logger (bound to its id). */
  readonly log: Logger;
  /** The request's metric and span, when the server keeps them. */
  readonly observer?: RequestObserver;
  /** Takes the operation's denials for the request's access line, when that line is written. */
  readonly denials?: DenialSink | undefined;
}

/**
 * Apollo's context function for Fastify: the request's credentials turned into a principal
 * ({@link authenticate}: an invalid token ends the request with its RFC 6750 / RFC 9449 answer),
 * then `build` makes the request context.
 */
export function authenticatedContext<TContext>(
  authentication: Pick<AuthenticationSetup, 'verifier' | 'challenges' | 'dpop'>,
  build: (request: AuthenticatedRequest) => TContext,
  telemetry: {
    readonly metrics?: Metrics;
    readonly observerOf?: (request: FastifyRequest) => RequestObserver | undefined;
    /** The request's denial sink ({@link accessLogDenials}): its access line carries the denials. */
    readonly denialsOf?: ((request: FastifyRequest) => DenialSink | undefined) | undefined;
  } = {},
): (request: FastifyRequest) => Promise<TContext> {
  const { verifier, challenges, dpop } = authentication;
  return async (request) => {
    const log: Logger = request.log;
    const credentials = {
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders ?? [],
      query: request.query,
      body: request.body,
      method: request.raw.method ?? request.method,
      url: request.raw.url ?? request.url,
    };
    const principal = await authenticate(credentials, verifier, challenges, log, dpop, telemetry.metrics);
    request.principal = principal; // for the access log (subject, client id)
    const observer = telemetry.observerOf?.(request);
    return build({ requestId: String(request.id), principal, log, observer, denials: telemetry.denialsOf?.(request) });
  };
}
