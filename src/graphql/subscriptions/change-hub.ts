import type { ChangeFeed } from '../../db/change-feed.js';
import { type DomainChange, isDomainChange } from '../../domain/orders/order-events.js';
import { EventsInterruptedError, EventsUnavailableError } from '../../errors.js';

/** Options of one {@link ChangeHub.watch}. */
export interface WatchOptions<T extends DomainChange> {
  /** Which changes this watcher receives; the others are never queued. */
  readonly accept: (change: DomainChange) => change is T;
  /** Changes waiting to be consumed at most; one more ends the watch and calls `onOverflow`. */
  readonly maxQueued: number;
  /** The consumer is too slow (its queue is full): the caller closes its connection. */
  readonly onOverflow: () => void;
}

/**
 * The process's fan-out of committed changes: one listener on the change feed, and per watcher a
 * bounded queue, so a slow consumer costs at most `maxQueued` changes before it is cut off.
 */
export class ChangeHub {
  readonly #watchers = new Set<(change: DomainChange) => void>();
  readonly #interrupts = new Set<() => void>();
  readonly #feed: Pick<ChangeFeed, 'delivering'>;
  readonly #unlisten: () => void;
  readonly #unInterrupted: () => void;

  /** @param onInterrupted Told how many watches an interruption ended (for the metric). */
  constructor(feed: Pick<ChangeFeed, 'listen' | 'onInterrupted' | 'delivering'>, onInterrupted?: (ended: number) => void) {
    this.#feed = feed;
    this.#unlisten = feed.listen((message) => {
      if (!isDomainChange(message)) return;
      for (const watcher of this.#watchers) watcher(message);
    });
    // Every watch ends with EventsInterruptedError after the changes queued before the interruption.
    this.#unInterrupted = feed.onInterrupted(() => {
      const ended = [...this.#interrupts];
      for (const interrupt of ended) interrupt();
      onInterrupted?.(ended.length);
    });
  }

  /** Active watchers (subscriptions) in this process. */
  get size(): number {
    return this.#watchers.size;
  }

  /**
   * The accepted changes committed from now on, in commit order, until `return()` or overflow.
   * When delivery is interrupted the generator yields what was queued, then throws
   * {@link EventsInterruptedError}.
   *
   * @throws {EventsUnavailableError} while changes are not being delivered.
   */
  watch<T extends DomainChange>(options: WatchOptions<T>): AsyncGenerator<T, void, undefined> {
    if (!this.#feed.delivering()) throw new EventsUnavailableError();
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let interrupted = false;
    const watchers = this.#watchers;
    const interrupts = this.#interrupts;
    const watcher = (change: DomainChange) => {
      if (ended || !options.accept(change)) return;
      if (queue.length >= options.maxQueued) {
        end();
        options.onOverflow();
        return;
      }
      queue.push(change);
      wake?.();
    };
    const detach = () => {
      watchers.delete(watcher);
      interrupts.delete(interrupt);
      wake?.();
    };
    const end = () => {
      ended = true;
      queue.length = 0;
      detach();
    };
    // Stops taking changes but keeps those queued: they were committed and are delivered first.
    const interrupt = () => {
      interrupted = true;
      detach();
    };
    watchers.add(watcher);
    interrupts.add(interrupt);
    async function* changes(): AsyncGenerator<T, void, undefined> {
      try {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (ended) return;
          if (interrupted) throw new EventsInterruptedError();
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        end();
      }
    }
    const generator = changes();
    // A generator ended before it started, or while it waits, never reaches its finally: end here.
    const stop = generator.return.bind(generator);
    generator.return = (value) => {
      end();
      return stop(value);
    };
    return generator;
  }

  close(): void {
    this.#unlisten();
    this.#unInterrupted();
    for (const watcher of [...this.#watchers]) this.#watchers.delete(watcher);
    this.#interrupts.clear();
  }
}
