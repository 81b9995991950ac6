import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onResponseHookHandler } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { DenialRecord, DenialSink } from '../authz/operation-decision.js';
import type { AccessLogSettings } from '../config.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request authenticated as, once known (for the access log); undefined before or without authentication. */
    principal: Principal | undefined;
    /** The denials of the request's operations (one per operation of a batch that had any), for its access line. */
    denials: DenialRecord[] | undefined;
  }
}

/** Levels at or above `info`, where the per-field denial lines are written: only an access line at one of them may carry the denials instead. */
const CARRIES_DENIALS = new Set(['info', 'warn', 'error', 'fatal']);

type LevelCheck = { isLevelEnabled?: (level: string) => boolean };

/**
 * Each request's {@link DenialSink} for the authorization layer, when the access line carries the
 * denials (one line per request instead of one more per denied field): the access log is on at
 * `info` or above. Per request the sink takes them only when the line will be written at the
 * logger's level; otherwise (and over WebSocket, where there is no access line) each denial gets
 * its `authz.denied` line as before. Undefined when no access line ever carries them.
 */
export function accessLogDenials(settings: AccessLogSettings): ((request: FastifyRequest) => DenialSink | undefined) | undefined {
  const { level } = settings;
  if (level === 'off' || !CARRIES_DENIALS.has(level)) return undefined;
  return (request) => {
    if ((request.log as LevelCheck).isLevelEnabled?.(level) === false) return undefined;
    return (record) => {
      (request.denials ??= []).push(record);
      return true;
    };
  };
}

/** Longest path written; longer ones are cut (a path is the client's to choose). */
const MAX_PATH = 256;
const MAX_OPERATION = 128;
/** The name of the document's first operation, when the document starts with a named one. */
const NAMED_OPERATION = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/**
 * The one access-log line per request (Fastify's own `incoming request` / `request completed`
 * lines are turned off in {@link createFastifyApp}): written when the response is done, at the
 * configured level, through the request's logger (so it carries `reqId`). The path is written
 * without its query string: RFC 6750 §2.3 allows `access_token` there, and nothing from a
 * credential is ever logged.
 */
export function accessLogHook(settings: AccessLogSettings): onResponseHookHandler | undefined {
  const { level } = settings;
  if (level === 'off') return undefined;
  const has = new Set(settings.fields);
  const method = has.has('method');
  const path = has.has('path');
  const status = has.has('status');
  const duration = has.has('durationMs');
  const operation = has.has('operation');
  const subject = has.has('subject');
  const clientId = has.has('clientId');
  // A callback hook, not an async one: no promise per request.
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // Nothing built for a line the level would drop (Fastify's silent logger has no such check: it drops everything cheaply).
    if ((request.log as LevelCheck).isLevelEnabled?.(level) === false) {
      done();
      return;
    }
    const line: Record<string, unknown> = {};
    if (method) line['method'] = request.method;
    if (path) line['path'] = pathOf(request.url);
    if (status) line['status'] = reply.statusCode;
    if (duration) line['durationMs'] = Math.round(reply.elapsedTime * 1000) / 1000;
    if (operation) {
      const name = operationName(request);
      if (name !== undefined) line['operation'] = name;
    }
    const principal = request.principal;
    if (principal !== undefined && principal.kind !== 'anonymous') {
      if (subject) line['subject'] = principal.subject;
      if (clientId && principal.clientId !== undefined) line['clientId'] = principal.clientId;
    }
    const denials = request.denials;
    if (denials !== undefined) writeDenials(line, denials);
    request.log[level](line, 'request');
    done();
  };
}

/** The denials on the access line: `denied` (in dry-run `wouldDeny`), the listed fields of every operation, and how many more were not listed. */
function writeDenials(line: Record<string, unknown>, denials: readonly DenialRecord[]): void {
  const first = denials[0]!;
  const fields = denials.length === 1 ? first.fields : denials.flatMap((d) => d.fields);
  let unlisted = 0;
  for (const d of denials) unlisted += d.unlisted;
  const key = first.dryRun ? 'wouldDeny' : 'denied';
  line[key] = fields;
  if (unlisted > 0) line[`${key}Unlisted`] = unlisted;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

/** The operation name the client gave (`operationName` in the body or the query string), else the document's first operation's name; names of a batch joined with commas. */
function operationName(request: FastifyRequest): string | undefined {
  const source = request.method === 'GET' ? request.query : request.body;
  const name = Array.isArray(source) ? source.map(nameOf).filter((n) => n !== undefined).join(',') || undefined : nameOf(source);
  return name !== undefined && name.length > MAX_OPERATION ? `${name.slice(0, MAX_OPERATION)}…` : name;
}

function nameOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const { operationName, query } = params as { operationName?: unknown; query?: unknown };
  if (typeof operationName === 'string' && operationName !== '') return operationName;
  if (typeof query !== 'string') return undefined;
  return NAMED_OPERATION.exec(query)?.[1];
}
