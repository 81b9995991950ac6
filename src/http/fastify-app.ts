import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { httpServerOptions } from './http-limits.js';

/** Pino options or false to silence logs; `stream` receives each JSON line (log assertions in tests). */
export type LoggerOption = boolean | { level: string; stream?: { write(line: string): void } };

/** A caller-supplied request id is accepted only if it is short and harmless to log. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The Fastify instance every route is served from: its logger (default: JSON at `LOG_LEVEL`), the
 * deadlines for slow clients and the body and header sizes (README, "HTTP limits"), and request
 * ids (the caller's `x-request-id` when it is safe to log, else a random UUID).
 */
export function createFastifyApp(config: Pick<Config, 'logLevel' | 'http'>, logger: LoggerOption = { level: config.logLevel }): FastifyInstance {
  return Fastify({
    logger,
    ...httpServerOptions(config.http),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
}
