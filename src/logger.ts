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
 * The server process's logger: JSON lines on stdout, written by a pino transport in a worker
 * thread (`pino/file` to fd 1). The request's thread only serializes a line and copies it into
 * the transport's shared buffer; the `write(2)` calls and their completions happen on the
 * worker. With pino's asynchronous destination on the main thread instead (its writes run on
 * libuv's pool and their completions come back to the main thread), the access line cost the
 * main thread 20–30 µs per request on this project's bench machine with stdout a file, though
 * not with stdout `/dev/null` (docs/BENCHMARKS.md "Access log through a worker transport"); the
 * exact cause is not proven. Lines still buffered are written on process exit (pino
 * registers that) and by {@link flushLogsSync} on a fatal error and on close. Should the worker
 * fail, the server keeps serving and says so once on stderr (pino's destination in the worker
 * drops `EPIPE`, a reader that has gone, silently).
 */
export function createProcessLogger(level: LogLevel): PinoLogger {
  const destination = pino.transport({ target: 'pino/file', options: { destination: 1 } });
  let reported = false;
  destination.on('error', (error: unknown) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`log output failed, lines are being lost: ${error instanceof Error ? error.message : String(error)}\n`);
  });
  return pino({ level }, destination);
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
