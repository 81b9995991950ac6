import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { createProcessLogger, flushLogsSync } from '../logger.js';
import { accessLogHook } from './access-log.js';
import { httpServerOptions } from './http-limits.js';

/** Pino options or false to silence logs; `stream` receives each JSON line (log assertions in tests). Default: {@link createProcessLogger} at `LOG_LEVEL`. */
export type LoggerOption = boolean | { level: string; stream?: { write(line: string): void } };

/** A caller-supplied request id is accepted only if it is short and harmless to log. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The Fastify instance every route is served from: its logger (default: JSON at `LOG_LEVEL` on
 * stdout, written asynchronously and flushed on close), one access-log line per request instead
 * of Fastify's two (README, "Access logs"), the deadlines for slow clients and the body and header
 * sizes (README, "HTTP limits"), and request ids (the caller's `x-request-id` when it is safe to
 * log, else a random UUID).
 */
export function createFastifyApp(config: Pick<Config, 'logLevel' | 'http' | 'accessLog'>, logger?: LoggerOption): FastifyInstance {
  const options = {
    ...httpServerOptions(config.http),
    // Fastify's `incoming request` / `request completed` pair off: the access log writes one line instead.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
  };
  // pino's Logger is Fastify's logger type; Fastify's typings only want it spelled as the base.
  const app: FastifyInstance = logger === undefined ? Fastify({ ...options, loggerInstance: createProcessLogger(config.logLevel) as FastifyBaseLogger }) : Fastify({ ...options, logger });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('denials', undefined);
  const hook = accessLogHook(config.accessLog);
  if (hook !== undefined) app.addHook('onResponse', hook);
  app.addHook('onClose', async () => {
    flushLogsSync(app.log);
  });
  return app;
}
