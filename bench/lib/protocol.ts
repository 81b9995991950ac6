/**
 * Messages between the benchmark (`bench/run.ts`, the parent) and its server processes
 * (`bench/server-child.ts`, `bench/cluster.ts`) over the Node IPC channel.
 */

/** Which server a child runs. */
export type Variant =
  /** Vanilla Apollo Server 5 on Fastify, default plugins; the project's schema (no authorization transform), resolvers and database; a fixed principal. */
  | 'baseline'
  /** As `baseline`, with the project's Apollo tuning (no cache-control plugin, no stack traces). */
  | 'no-authz'
  /** The project's request path minus the authorization layer, composed from `createServer`'s parts: token verification and its context, no schema transform, no authorization plugin. */
  | 'authn-only'
  /** The real product in process: `createServer(loadConfig(env))`, logs off (statement counts, memory, the layers' cost). */
  | 'project'
  /** The server exactly as `npm start` runs it (`node dist/main.js` after `npm run build`, default settings, logs on to a file). */
  | 'shipped'
  /** `shipped` with LOG_LEVEL=warn (no access log). */
  | 'shipped-warn'
  /** `shipped` on PostgreSQL (DATABASE_URL, the pool as configured by default). */
  | 'shipped-pg'
  /** Plain Apollo Server 5 + Fastify, default plugins, its own SQL through DataLoaders, no authentication: the baseline. */
  | 'apollo'
  /** Mercurius + graphql-jit + mercurius-auth, its own SQL through DataLoaders, jose per request: the peer. */
  | 'mercurius';

/** The variants bench/server-child.ts runs. */
export const VARIANTS: readonly Variant[] = ['baseline', 'no-authz', 'authn-only', 'project', 'apollo', 'mercurius'];

/** Where the development issuer's key lives and what its tokens must say, for the parent to sign bench tokens. */
export interface TokenSettings {
  readonly keyFile: string;
  readonly issuer: string;
  readonly audience: string;
}

export interface ReadyMessage {
  readonly type: 'ready';
  readonly variant: Variant;
  /** Base URL, e.g. http://127.0.0.1:41234 (GraphQL at `${url}/graphql`). */
  readonly url: string;
  readonly pid: number;
  /** Set when the server verifies tokens (project, authn-only). */
  readonly tokens?: TokenSettings;
  /** Number of worker processes serving the URL (cluster), 1 otherwise. */
  readonly workers: number;
  /** GraphQL executor the server runs with, when known. */
  readonly executor?: string;
}

export interface StatsMessage {
  readonly type: 'stats';
  readonly id: number;
  /** `process.memoryUsage().rss`, bytes (summed over the workers of a cluster). */
  readonly rss: number;
  readonly heapUsed: number;
  /** SQL statements sent to the database since start (summed over workers). */
  readonly sqlStatements: number;
  /** CPU time the process has used since start (`process.cpuUsage()`, user + system), microseconds (summed over workers). */
  readonly cpuMicros: number;
  /** Time spent in garbage collection pauses since start (`gc` performance entries), microseconds (summed over workers). */
  readonly gcMicros: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

export type ChildMessage = ReadyMessage | StatsMessage | ErrorMessage;

export type ParentMessage =
  /** `gc`: run a full garbage collection first (when the child runs with --expose-gc). */
  | { readonly type: 'stats'; readonly id: number; readonly gc?: boolean }
  | { readonly type: 'shutdown' };

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function isParentMessage(value: unknown): value is ParentMessage {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === 'stats' || type === 'shutdown';
}
