import { describe, expect, it } from '@jest/globals';
import { ChangeHub } from '../../../src/graphql/subscriptions/change-hub.js';
import type { DomainChange, ProductChange } from '../../../src/domain/orders/order-events.js';
import { AppError, EventsInterruptedError } from '../../../src/errors.js';

/** A change feed whose delivery the test switches off and on. */
function fakeFeed() {
  const listeners = new Set<(message: unknown) => void>();
  const interrupted = new Set<() => void>();
  let up = true;
  return {
    listen(listener: (message: unknown) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onInterrupted(listener: () => void) {
      interrupted.add(listener);
      return () => interrupted.delete(listener);
    },
    delivering: () => up,
    emit: (message: unknown) => listeners.forEach((l) => l(message)),
    lose() {
      up = false;
      interrupted.forEach((l) => l());
    },
    restore() {
      up = true;
    },
    interruptListeners: () => interrupted.size,
  };
}

const product = (productId: number): ProductChange => ({ kind: 'product', productId });
const products = (change: DomainChange): change is ProductChange => change.kind === 'product';
const watchOptions = { accept: products, maxQueued: 10, onOverflow: () => undefined };

async function drain(stream: AsyncGenerator<ProductChange, void, undefined>): Promise<{ ids: number[]; error: unknown }> {
  const ids: number[] = [];
  try {
    for await (const change of stream) ids.push(change.productId);
  } catch (error) {
    return { ids, error };
  }
  return { ids, error: undefined };
}

describe('ChangeHub when delivery is interrupted', () => {
  it('delivers what was queued, then ends every watch with EventsInterruptedError (SERVICE_UNAVAILABLE, events_interrupted)', async () => {
    const feed = fakeFeed();
    const counted: number[] = [];
    const hub = new ChangeHub(feed, (ended) => counted.push(ended));
    const a = hub.watch(watchOptions);
    const b = hub.watch(watchOptions);
    feed.emit(product(1));
    feed.emit(product(2));
    feed.lose();
    feed.emit(product(3)); // would not arrive on a lost connection; a watch that ended takes none
    const [ra, rb] = await Promise.all([drain(a), drain(b)]);
    for (const r of [ra, rb]) {
      expect(r.ids).toEqual([1, 2]);
      expect(r.error).toBeInstanceOf(EventsInterruptedError);
      expect((r.error as AppError).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'events_interrupted' });
    }
    expect(hub.size).toBe(0);
    expect(counted).toEqual([2]);
  });

  it('ends a watch that is waiting for its next change', async () => {
    const feed = fakeFeed();
    const hub = new ChangeHub(feed);
    const watch = hub.watch(watchOptions);
    const next = watch.next();
    feed.lose();
    await expect(next).rejects.toBeInstanceOf(EventsInterruptedError);
  });

  it('refuses a watch while changes are not delivered, and accepts one again once they are', async () => {
    const feed = fakeFeed();
    const hub = new ChangeHub(feed);
    feed.lose();
    let refused: unknown;
    try {
      hub.watch(watchOptions);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'events_unavailable' });
    feed.restore();
    const watch = hub.watch(watchOptions);
    feed.emit(product(7));
    expect(await watch.next()).toEqual({ done: false, value: product(7) });
    await watch.return();
    expect(hub.size).toBe(0);
  });

  it('forgets a watch that ended normally, and stops listening for interruptions when closed', async () => {
    const feed = fakeFeed();
    const hub = new ChangeHub(feed);
    const watch = hub.watch(watchOptions);
    await watch.return();
    feed.lose(); // no watch left to end: nothing throws
    hub.close();
    expect(feed.interruptListeners()).toBe(0);
  });
});
