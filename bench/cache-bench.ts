/**
 * Micro-benchmark: the hand-written bounded maps the project had (a `Map` evicting its oldest
 * insertion, and a `Map` re-inserting on every hit for least-recently-used order) against
 * `lru-cache`, as the caches use it (with and without a per-entry TTL). Prints ns/op per path and
 * round, then the median; asserts nothing.
 *
 *   npx tsx bench/cache-bench.ts [--rounds 5] [--ops 1000000] [--size 10000]
 */
import { LRUCache } from 'lru-cache';

interface Impl {
  readonly name: string;
  get(key: string): unknown;
  set(key: string, value: object): void;
}


function fifoMap(): Impl {
  const map = new Map<string, object>();
  return {
    name: 'Map, oldest insertion evicted (setBounded)',
    get: (key) => map.get(key),
    set(key, value) {
      if (map.size >= SIZE && !map.has(key)) map.delete(map.keys().next().value as string);
      map.set(key, value);
    },
  };
}

function reinsertMap(): Impl {
  const map = new Map<string, { value: object; until: number }>();
  return {
    name: 'Map, re-inserted on hit, expiry checked (LRU + TTL by hand)',
    get(key) {
      const entry = map.get(key);
      if (entry === undefined) return undefined;
      map.delete(key);
      if (Date.now() >= entry.until) return undefined;
      map.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      map.delete(key);
      map.set(key, { value, until: Date.now() + 60_000 });
      while (map.size > SIZE) map.delete(map.keys().next().value as string);
    },
  };
}

function lru(): Impl {
  const cache = new LRUCache<string, object>({ max: SIZE });
  return { name: 'lru-cache, no TTL', get: (key) => cache.get(key), set: (key, value) => void cache.set(key, value) };
}

function lruTtl(): Impl {
  const cache = new LRUCache<string, object>({ max: SIZE, ttl: 60_000, ttlResolution: 0, perf: { now: Date.now } });
  return { name: 'lru-cache, TTL (ttlResolution 0, Date.now clock)', get: (key) => cache.get(key), set: (key, value) => void cache.set(key, value) };
}

function lruOwnExpiry(): Impl {
  const cache = new LRUCache<string, { value: object; until: number }>({ max: SIZE });
  return {
    name: 'lru-cache, expiry in the value (as VerifiedTokenCache)',
    get(key) {
      const entry = cache.get(key);
      if (entry === undefined) return undefined;
      if (Date.now() >= entry.until) {
        cache.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set: (key, value) => void cache.set(key, { value, until: Date.now() + 60_000 }),
  };
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const ROUNDS = flag('--rounds', 5);
const OPS = flag('--ops', 1_000_000);
/** Entries the cache holds (its bound); lookups cycle over them, misses over 3× as many other keys. */
const SIZE = flag('--size', 10_000);
/** The eviction path is slow in a large Map: fewer operations there. */
const SET_NEW_OPS = Math.max(1000, Math.floor(OPS / 20));

const keys = Array.from({ length: SIZE * 4 }, (_, i) => `key:${i}:${(i * 2654435761) % 1e9}`);
const value = { v: 1 };
let sink: unknown;

type Path = (impl: Impl) => number;
const paths: Record<string, Path> = {
  'get hit': (impl) => {
    for (let i = 0; i < SIZE; i++) impl.set(keys[i]!, value);
    const t = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink = impl.get(keys[i % SIZE]!);
    return Number(process.hrtime.bigint() - t) / OPS;
  },
  'get miss': (impl) => {
    for (let i = 0; i < SIZE; i++) impl.set(keys[i]!, value);
    const t = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink = impl.get(keys[SIZE + (i % (SIZE * 3))]!);
    return Number(process.hrtime.bigint() - t) / OPS;
  },
  'set new (evicts)': (impl) => {
    for (let i = 0; i < SIZE; i++) impl.set(keys[i]!, value);
    const t = process.hrtime.bigint();
    for (let i = 0; i < SET_NEW_OPS; i++) impl.set(keys[i % keys.length]!, value);
    return Number(process.hrtime.bigint() - t) / SET_NEW_OPS;
  },
  'set existing': (impl) => {
    for (let i = 0; i < SIZE; i++) impl.set(keys[i]!, value);
    const t = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) impl.set(keys[i % SIZE]!, value);
    return Number(process.hrtime.bigint() - t) / OPS;
  },
};

const factories = [fifoMap, reinsertMap, lru, lruTtl, lruOwnExpiry];
const results = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Each round visits the implementations in another order, so drift spreads over all of them.
  for (let k = 0; k < factories.length; k++) {
    const factory = factories[(k + round) % factories.length]!;
    for (const [path, run] of Object.entries(paths)) {
      const impl = factory();
      const ns = run(impl);
      const id = `${impl.name}\t${path}`;
      results.set(id, [...(results.get(id) ?? []), ns]);
    }
  }
}
void sink;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${ROUNDS} rounds × ${OPS} ops, ${SIZE} entries; ns/op (median, then min–max)`);
console.log(['implementation', ...Object.keys(paths)].join(' | '));
for (const factory of factories) {
  const name = factory().name;
  const cells = Object.keys(paths).map((path) => {
    const xs = results.get(`${name}\t${path}`)!;
    return `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  });
  console.log([name, ...cells].join(' | '));
}
