import { pino, type Logger as PinoLogger } from 'pino';

/**
 * The structured logger the application writes to: Fastify's pino logger in the server, a
 * silent one in tests. Objects first, then a short message, as pino expects.
 */
export interface Logger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** pino's levels, and `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The server process's logger: JSON lines on stdout through pino's asynchronous destination, so
 * a request never waits for a `write(2)` of its log lines (written synchronously to a pipe, the
 * two lines Fastify used to write per request cost about 25 µs, a third of a one-field query).
 * Lines still in memory are written on process exit (pino registers that) and by
 * {@link flushLogsSync} on a fatal error and on close.
 */
export function createProcessLogger(level: LogLevel): PinoLogger {
  return pino({ level }, pino.destination({ dest: 1, sync: false }));
}

/**
 * Writes out synchronously what a logger from {@link createProcessLogger} (or a child of it)
 * still holds in memory. Safe to call on any logger, any number of times.
 */
export function flushLogsSync(logger: unknown): void {
  if (typeof logger !== 'object' || logger === null) return;
  const stream = (logger as Record<symbol, unknown>)[pino.symbols.streamSym] as { flushSync?: () => void } | undefined;
  try {
    stream?.flushSync?.();
  } catch {
    // Not opened yet or already closed: nothing of ours is left to write.
  }
}
