/**
 * Load from the parent process with autocannon: a fixed number of connections for a fixed time,
 * checking sampled responses (the first, then every `sampleEvery`-th) and stopping at the
 * first wrong one. Latency percentiles come from every response's own time (autocannon's
 * histogram rounds to whole milliseconds).
 */
import { createRequire } from 'node:module';
import type { Operation } from './queries.js';

interface AutocannonResult {
  readonly duration: number;
  readonly requests: { readonly total: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  stop(): void;
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}

interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Called before each request is sent; what it returns is sent. */
  setupRequest?(request: { headers: Record<string, string>; body: string }): { headers: Record<string, string>; body: string };
  onResponse(status: number, body: string): void;
}

type Autocannon = (options: { url: string; connections: number; duration: number; timeout: number; requests: AutocannonRequest[] }) => AutocannonInstance;

// autocannon is CommonJS without bundled types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadOptions {
  /** `http://127.0.0.1:port/graphql` */
  readonly endpoint: string;
  readonly operation: Operation;
  /** Bearer token, or undefined for an anonymous request. */
  readonly token: string | undefined;
  readonly enforcesAuthorization: boolean;
  readonly connections: number;
  readonly durationSec: number;
  readonly sampleEvery?: number;
  /** Tokens sent in turn, one per request (instead of `token`): never-seen tokens, many users. */
  readonly tokens?: readonly string[];
  /** Request bodies sent in turn (instead of the operation's one): many documents. */
  readonly bodies?: readonly string[];
}

/** One autocannon run. */
export interface RawRun {
  readonly requests: number;
  readonly durationSec: number;
  /** Every response's latency, milliseconds, sorted. */
  readonly latencies: Float64Array;
  readonly sampled: number;
  /** CPU time the server process used during the run (user + system), microseconds, when measured. */
  readonly serverCpuMicros?: number;
  /** Time the server process spent in garbage collection pauses during the run, microseconds, when measured. */
  readonly serverGcMicros?: number;
}

/** A cell's figures, over all its runs (rounds). */
export interface LoadResult {
  readonly requests: number;
  readonly durationSec: number;
  readonly rps: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly sampled: number;
  /** Throughput of each round, in order. */
  readonly roundRps: readonly number[];
  /** Server CPU time per response (user + system), microseconds; NaN when not measured. */
  readonly cpuPerRequestUs: number;
  /** Server time in garbage collection pauses per response, microseconds; NaN when not measured. */
  readonly gcPerRequestUs: number;
}

/** A wrong response or a failed request: the cell's figures are not to be used. */
export class CellError extends Error {
  override readonly name = 'CellError';
}

export function requestBody(operation: Operation): string {
  return JSON.stringify({ query: operation.query });
}

export function requestHeaders(token: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Drives `operation` at the endpoint; throws {@link CellError} on a wrong response, a non-2xx status, an error or a timeout. */
export async function drive(options: LoadOptions): Promise<RawRun> {
  const sampleEvery = options.sampleEvery ?? 100;
  const url = new URL(options.endpoint);
  let responses = 0;
  let sampled = 0;
  let failure: string | undefined;
  let latencies = new Float64Array(1 << 16);
  let count = 0;

  const instance = autocannon({
    url: url.origin,
    connections: options.connections,
    duration: options.durationSec,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        headers: requestHeaders(options.token),
        body: requestBody(options.operation),
        ...(options.tokens !== undefined || options.bodies !== undefined ? { setupRequest: rotation(options) } : {}),
        onResponse(status, body) {
          responses++;
          if (failure !== undefined || (responses !== 1 && responses % sampleEvery !== 0)) return;
          sampled++;
          const problem = options.operation.check(status, body, options.enforcesAuthorization);
          if (problem !== undefined) {
            failure = `response #${responses}: ${problem}`;
            instance.stop();
          }
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, time) => {
    if (count === latencies.length) {
      const larger = new Float64Array(latencies.length * 2);
      larger.set(latencies);
      latencies = larger;
    }
    latencies[count++] = time;
  });
  const result = await instance;

  if (failure !== undefined) throw new CellError(failure);
  const statuses = Object.entries(result.statusCodeStats)
    .map(([status, { count: n }]) => `${status}×${n}`)
    .join(', ');
  if (result.non2xx > 0) throw new CellError(`${result.non2xx} non-2xx responses (${statuses})`);
  if (result.errors > 0 || result.timeouts > 0) throw new CellError(`${result.errors} request errors, ${result.timeouts} timeouts`);
  if (result.requests.total === 0) throw new CellError('no response at all');

  return { requests: result.requests.total, durationSec: result.duration, latencies: latencies.subarray(0, count).sort(), sampled };
}

/** Where each token and body pool is in its turn, kept across runs so that a pool larger than a run's requests is not restarted. */
const positions = new WeakMap<readonly string[], number>();

function next(pool: readonly string[]): string {
  const at = positions.get(pool) ?? 0;
  positions.set(pool, (at + 1) % pool.length);
  return pool[at]!;
}

function rotation(options: LoadOptions): NonNullable<AutocannonRequest['setupRequest']> {
  const { tokens, bodies } = options;
  return (request) => {
    if (tokens !== undefined) request.headers = { ...request.headers, authorization: `Bearer ${next(tokens)}` };
    if (bodies !== undefined) request.body = next(bodies);
    return request;
  };
}

/** A server figure summed over the runs, per response; NaN when a run did not measure it. */
function perRequest(runs: readonly RawRun[], requests: number, figure: (run: RawRun) => number | undefined): number {
  let total = 0;
  for (const run of runs) {
    const value = figure(run);
    if (value === undefined) return NaN;
    total += value;
  }
  return total / requests;
}

/** Throughput over all runs, latency percentiles over all their responses. */
export function summarize(runs: readonly RawRun[]): LoadResult {
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  const durationSec = runs.reduce((sum, r) => sum + r.durationSec, 0);
  const all = new Float64Array(runs.reduce((sum, r) => sum + r.latencies.length, 0));
  let offset = 0;
  for (const run of runs) {
    all.set(run.latencies, offset);
    offset += run.latencies.length;
  }
  all.sort();
  return {
    requests,
    durationSec,
    rps: requests / durationSec,
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    sampled: runs.reduce((sum, r) => sum + r.sampled, 0),
    roundRps: runs.map((r) => r.requests / r.durationSec),
    cpuPerRequestUs: perRequest(runs, requests, (r) => r.serverCpuMicros),
    gcPerRequestUs: perRequest(runs, requests, (r) => r.serverGcMicros),
  };
}

/** One request, checked in full (preflight and statement counting). */
export async function requestOnce(endpoint: string, operation: Operation, token: string | undefined, enforcesAuthorization: boolean): Promise<string> {
  const response = await fetch(endpoint, { method: 'POST', headers: requestHeaders(token), body: requestBody(operation) });
  const body = await response.text();
  const problem = operation.check(response.status, body, enforcesAuthorization);
  if (problem !== undefined) throw new CellError(problem);
  return body;
}
