import { describe, expect, it } from '@jest/globals';
import { BackgroundRetry, type RetryTimers } from '../../../src/lib/background-retry.js';

/** Timers that run only when the test says so. */
function manualTimers() {
  const scheduled: { callback: () => void; delayMs: number; cleared: boolean }[] = [];
  const timers: RetryTimers = {
    setTimeout(callback, delayMs) {
      const entry = { callback, delayMs, cleared: false };
      scheduled.push(entry);
      return entry;
    },
    clearTimeout(handle) {
      (handle as { cleared: boolean }).cleared = true;
    },
  };
  const live = () => scheduled.filter((entry) => !entry.cleared);
  const fire = () => {
    const [next] = live();
    if (next === undefined) throw new Error('nothing scheduled');
    next.cleared = true;
    next.callback();
  };
  return { timers, scheduled, live, fire };
}

describe('BackgroundRetry', () => {
  it('doubles the delay after each failure up to the maximum, within the jitter', () => {
    const clock = manualTimers();
    let attempts = 0;
    const retry = new BackgroundRetry(() => {
      attempts += 1;
      retry.failed();
    }, { initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5, timers: clock.timers });
    retry.failed();
    for (let i = 0; i < 6; i += 1) clock.fire();
    expect(attempts).toBe(6);
    expect(clock.scheduled.map((entry) => entry.delayMs)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('draws each delay within ± the jitter share', () => {
    const low = manualTimers();
    new BackgroundRetry(() => undefined, { initialDelayMs: 1000, maxDelayMs: 60_000, random: () => 0, timers: low.timers }).failed();
    const high = manualTimers();
    new BackgroundRetry(() => undefined, { initialDelayMs: 1000, maxDelayMs: 60_000, random: () => 0.999_999, timers: high.timers }).failed();
    const none = manualTimers();
    new BackgroundRetry(() => undefined, { initialDelayMs: 1000, maxDelayMs: 60_000, jitter: 0, random: () => 0, timers: none.timers }).failed();
    expect([low.scheduled[0]!.delayMs, high.scheduled[0]!.delayMs, none.scheduled[0]!.delayMs]).toEqual([800, 1200, 1000]);
  });

  it('keeps at most one attempt pending', () => {
    const clock = manualTimers();
    const retry = new BackgroundRetry(() => undefined, { initialDelayMs: 10, maxDelayMs: 100, timers: clock.timers });
    retry.failed();
    retry.failed();
    retry.failed();
    expect(clock.live()).toHaveLength(1);
    expect(retry.pending).toBe(true);
  });

  it('starts the backoff again after a success, and cancels a pending attempt', () => {
    const clock = manualTimers();
    let attempts = 0;
    const retry = new BackgroundRetry(() => {
      attempts += 1;
      retry.failed();
    }, { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0, timers: clock.timers });
    retry.failed();
    clock.fire();
    clock.fire();
    retry.succeeded();
    expect(clock.live()).toHaveLength(0);
    expect(retry.pending).toBe(false);
    retry.failed();
    expect(clock.live().map((entry) => entry.delayMs)).toEqual([100]);
    expect(attempts).toBe(2);
  });

  it('after stop, cancels the pending attempt and schedules none again', () => {
    const clock = manualTimers();
    let attempts = 0;
    const retry = new BackgroundRetry(() => {
      attempts += 1;
    }, { initialDelayMs: 10, maxDelayMs: 100, timers: clock.timers });
    retry.failed();
    retry.stop();
    expect(clock.live()).toHaveLength(0);
    retry.failed();
    expect(clock.live()).toHaveLength(0);
    expect(attempts).toBe(0);
  });

  it('ignores what a failing attempt throws or rejects with', async () => {
    const clock = manualTimers();
    const thrower = new BackgroundRetry(() => {
      throw new Error('down');
    }, { initialDelayMs: 10, maxDelayMs: 100, timers: clock.timers });
    thrower.failed();
    expect(() => clock.fire()).not.toThrow();
    const rejecter = new BackgroundRetry(() => Promise.reject(new Error('down')), { initialDelayMs: 10, maxDelayMs: 100, timers: clock.timers });
    rejecter.failed();
    expect(() => clock.fire()).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve)); // an unhandled rejection would fail the test run
  });

  it('refuses invalid options', () => {
    expect(() => new BackgroundRetry(() => undefined, { initialDelayMs: -1, maxDelayMs: 10 })).toThrow(TypeError);
    expect(() => new BackgroundRetry(() => undefined, { initialDelayMs: 1, maxDelayMs: Number.NaN })).toThrow(TypeError);
    expect(() => new BackgroundRetry(() => undefined, { initialDelayMs: 1, maxDelayMs: 10, jitter: 1 })).toThrow(TypeError);
  });
});
