import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { createProcessLogger, flushLogsSync } from '../../src/logger.js';

type Stream = NodeJS.EventEmitter & { worker?: unknown; end(): void; flushSync(): void };
const streamOf = (logger: object) => (logger as Record<symbol, unknown>)[pino.symbols.streamSym] as Stream;

describe('the process logger', () => {
  const opened: Stream[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const stream of opened.splice(0)) stream.end();
  });

  it('writes through a worker thread, not the thread that serves requests', () => {
    const stream = streamOf(createProcessLogger('info'));
    opened.push(stream);
    expect(stream.worker).toBeInstanceOf(Worker);
  });

  it('takes lines and flushes them without throwing, at any level', () => {
    const logger = createProcessLogger('warn');
    opened.push(streamOf(logger));
    expect(() => {
      logger.info({ event: 'dropped at warn' }, 'not written');
      logger.child({ reqId: 'r-1' }).warn({ event: 'kept' }, 'written');
      flushLogsSync(logger);
      flushLogsSync(logger.child({ reqId: 'r-2' }));
    }).not.toThrow();
  });

  it('keeps serving when the output fails, and says so once on stderr', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const logger = createProcessLogger('info');
    const stream = streamOf(logger);
    opened.push(stream);
    stream.emit('error', new Error('EPIPE: broken pipe, write'));
    stream.emit('error', new Error('the worker has exited'));
    const reports = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.includes('log output failed'));
    expect(reports).toEqual(['log output failed, lines are being lost: EPIPE: broken pipe, write\n']);
  });
});
