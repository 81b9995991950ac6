import { checkNonNegative } from './option-checks.js';

/** Timer functions, injectable for tests. */
export interface RetryTimers {
  /** Calls `callback` once after `delayMs`; the handle must not keep the process alive. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options for {@link BackgroundRetry}. */
export interface BackgroundRetryOptions {
  /** Delay before the first retry, in milliseconds; doubles after each further failure. */
  readonly initialDelayMs: number;
  /** Upper bound on the delay (before jitter), in milliseconds. */
  readonly maxDelayMs: number;
  /** Each delay is drawn within ± this share of itself. Default: 0.2. */
  readonly jitter?: number;
  /** Uniform random numbers in [0, 1), for the jitter. Default: `Math.random`. */
  readonly random?: () => number;
  /** Default: the global timers, unref'd (a pending retry does not keep the process alive). */
  readonly timers?: RetryTimers;
}

const unrefTimers: RetryTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Retries a failed background task (discovery, key loading) with exponential backoff and jitter,
 * so that readiness recovers without traffic and a fleet of servers does not retry in lockstep.
 * At most one attempt is pending at a time; {@link stop} ends the retries for good.
 *
 * `attempt` is called when the timer fires and must really try: a timer runs on the monotonic
 * clock and can fire a millisecond before `Date.now()` says the delay is over, so a wall-clock
 * throttle in front of the attempt would refuse it, and no retry would ever be scheduled again.
 * It reports its failure by calling {@link failed} (which schedules the next attempt) and its
 * success by calling {@link succeeded}; what it throws or rejects with is ignored.
 */
export class BackgroundRetry {
  readonly #attempt: () => unknown;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #timers: RetryTimers;
  #failures = 0;
  #timer: unknown;
  #pending = false;
  #stopped = false;

  constructor(attempt: () => unknown, options: BackgroundRetryOptions) {
    const { initialDelayMs, maxDelayMs } = options;
    const jitter = options.jitter ?? 0.2;
    checkNonNegative({ initialDelayMs, maxDelayMs });
    if (!Number.isFinite(jitter) || jitter < 0 || jitter >= 1) throw new TypeError('jitter must be at least 0 and below 1');
    this.#attempt = attempt;
    this.#initialDelayMs = initialDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#jitter = jitter;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? unrefTimers;
  }

  /** The task failed: schedules the next attempt, unless one is pending or retries were stopped. */
  failed(): void {
    if (this.#stopped || this.#pending) return;
    const base = Math.min(this.#initialDelayMs * 2 ** this.#failures, this.#maxDelayMs);
    this.#failures += 1;
    const delay = Math.round(base * (1 - this.#jitter + this.#random() * 2 * this.#jitter));
    this.#pending = true;
    this.#timer = this.#timers.setTimeout(() => {
      this.#pending = false;
      this.#timer = undefined;
      if (this.#stopped) return;
      try {
        Promise.resolve(this.#attempt()).catch(() => undefined);
      } catch {
        // Reported through failed(); nothing to do here.
      }
    }, delay);
  }

  /** The task succeeded: the backoff starts again from `initialDelayMs`, and a pending attempt is cancelled. */
  succeeded(): void {
    this.#failures = 0;
    this.#cancel();
  }

  /** Cancels a pending attempt and schedules none again. */
  stop(): void {
    this.#stopped = true;
    this.#cancel();
  }

  /** Whether an attempt is scheduled. */
  get pending(): boolean {
    return this.#pending;
  }

  #cancel(): void {
    if (this.#pending) this.#timers.clearTimeout(this.#timer);
    this.#pending = false;
    this.#timer = undefined;
  }
}
