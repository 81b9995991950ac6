import type { ChangeFeed } from '../../db/change-feed.js';
import { type DomainChange, isDomainChange } from '../../domain/orders/order-events.js';

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
  readonly #unlisten: () => void;

  constructor(feed: Pick<ChangeFeed, 'listen'>) {
    this.#unlisten = feed.listen((message) => {
      if (!isDomainChange(message)) return;
      for (const watcher of this.#watchers) watcher(message);
    });
  }

  /** Active watchers (subscriptions) in this process. */
  get size(): number {
    return this.#watchers.size;
  }

  /** The accepted changes committed from now on, in commit order, until `return()` or overflow. */
  watch<T extends DomainChange>(options: WatchOptions<T>): AsyncGenerator<T, void, undefined> {
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const watchers = this.#watchers;
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
    const end = () => {
      ended = true;
      queue.length = 0;
      watchers.delete(watcher);
      wake?.();
    };
    watchers.add(watcher);
    async function* changes(): AsyncGenerator<T, void, undefined> {
      try {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (ended) return;
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
    for (const watcher of [...this.#watchers]) this.#watchers.delete(watcher);
  }
}
