import { describe, expect, it } from '@jest/globals';
import { createMemorySharedCache } from '../../../../src/auth/cache/memory-shared-cache.js';
import { SingleFlight } from '../../../../src/auth/introspection/single-flight.js';

describe('createMemorySharedCache', () => {
  it('returns a value until its TTL lapses', async () => {
    let now = 1_000;
    const cache = createMemorySharedCache({ now: () => now });
    await cache.set('k', 'v', 500);
    now += 499;
    expect(await cache.get('k')).toBe('v');
    now += 1;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('stores nothing for a TTL below 1 ms', async () => {
    const cache = createMemorySharedCache();
    await cache.set('k', 'v', 0);
    await cache.set('n', 'v', Number.NaN);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('n')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its bound', async () => {
    const cache = createMemorySharedCache({ maxEntries: 2 });
    await cache.set('a', '1', 60_000);
    await cache.set('b', '2', 60_000);
    await cache.get('a');
    await cache.set('c', '3', 60_000);
    expect(await cache.get('a')).toBe('1');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('3');
  });

  it('forgets everything on close', async () => {
    const cache = createMemorySharedCache();
    await cache.set('a', '1', 60_000);
    await cache.close();
    expect(await cache.get('a')).toBeUndefined();
  });
});

describe('SingleFlight', () => {
  it('runs concurrent calls with one key once, and again once settled', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const work = async () => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return runs;
    };
    const results = await Promise.all([flights.run('k', work), flights.run('k', work), flights.run('other', work)]);
    expect(runs).toBe(2);
    expect(results[0]).toBe(results[1]);
    expect(flights.size).toBe(0);
    await flights.run('k', work);
    expect(runs).toBe(3);
  });

  it('shares a failure with every waiter and forgets it', async () => {
    const flights = new SingleFlight<number>();
    const failing = async () => Promise.reject(new Error('boom'));
    await expect(Promise.all([flights.run('k', failing), flights.run('k', failing)])).rejects.toThrow('boom');
    await expect(flights.run('k', async () => 1)).resolves.toBe(1);
  });
});
