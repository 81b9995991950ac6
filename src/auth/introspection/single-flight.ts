/**
 * Coalesces concurrent calls with the same key into one: while a call for `key` is in flight,
 * others for the same key get its promise instead of starting their own. Nothing is remembered
 * once it settles (caching is someone else's job).
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.#inFlight.get(key);
    if (existing !== undefined) return existing;
    const started = (async () => work())().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  /** Number of calls in flight. */
  get size(): number {
    return this.#inFlight.size;
  }
}
