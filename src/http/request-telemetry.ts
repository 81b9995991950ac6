import { type Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { type Metrics, type OperationTypeLabel, requestOutcome } from '../lib/metrics.js';
import type { RequestObserver } from '../lib/request-observer.js';
import { tracer } from '../lib/tracing.js';

/** Longest operation name put on a span; longer ones are cut (a client chooses it). */
const MAX_OPERATION_NAME = 128;

interface Observation extends RequestObserver {
  readonly span: Span;
  readonly startedAt: bigint;
  type: OperationTypeLabel | undefined;
  operations: number;
  hasErrors: boolean;
  hasData: boolean;
  answered: boolean;
}

/** The hooks and handler wrapper of {@link requestTelemetry}. */
export interface RequestTelemetry {
  /** Starts the request's span and clock (a route `onRequest` hook). */
  onRequest(request: FastifyRequest, reply: FastifyReply, done: () => void): void;
  /** Records the request metric and ends the span (a route `onResponse` hook). */
  onResponse(request: FastifyRequest, reply: FastifyReply, done: () => void): void;
  /** Runs the handler with the request's span active, so that verification, planning and SQL spans are its children. */
  wrap(handler: RouteHandlerMethod): RouteHandlerMethod;
  /** The request's observer, for its GraphQL context. */
  observerOf(request: FastifyRequest): RequestObserver | undefined;
}

/**
 * One metric sample and one server span per GraphQL HTTP request: `graphql_requests_total` and
 * `graphql_request_duration_seconds` by operation type and outcome, and a span named after the
 * operation (`query ListProducts`) with `graphql.operation.type`, `graphql.operation.name`, the
 * request id and the status. An incoming W3C `traceparent` is continued.
 */
export function requestTelemetry(metrics: Metrics): RequestTelemetry {
  const observations = new WeakMap<FastifyRequest, Observation>();
  return {
    onRequest(request, _reply, done) {
      const parent = propagation.extract(context.active(), request.headers);
      const span = tracer.startSpan(
        'graphql.request',
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': '/graphql', 'request.id': String(request.id) } },
        parent,
      );
      const observation: Observation = {
        span,
        startedAt: process.hrtime.bigint(),
        type: undefined,
        operations: 0,
        hasErrors: false,
        hasData: false,
        answered: false,
        operation(type, name) {
          observation.operations += 1;
          // A batch of operations of different types is `unknown`.
          observation.type = observation.operations === 1 || observation.type === type ? type : 'unknown';
          if (observation.operations > 1) return;
          span.setAttribute('graphql.operation.type', type);
          if (name !== undefined) span.setAttribute('graphql.operation.name', name.slice(0, MAX_OPERATION_NAME));
          span.updateName(name === undefined ? type : `${type} ${name.slice(0, MAX_OPERATION_NAME)}`);
        },
        result(hasErrors, hasData) {
          observation.answered = true;
          observation.hasErrors ||= hasErrors;
          observation.hasData ||= hasData;
        },
      };
      observations.set(request, observation);
      done();
    },
    onResponse(request, reply, done) {
      const observation = observations.get(request);
      if (observation !== undefined) {
        observations.delete(request);
        const status = reply.statusCode;
        const seconds = Number(process.hrtime.bigint() - observation.startedAt) / 1e9;
        const outcome = requestOutcome(status, observation.answered ? observation.hasErrors : status >= 400, observation.hasData);
        metrics.request(observation.type ?? 'unknown', outcome, seconds);
        observation.span.setAttribute('http.response.status_code', status);
        observation.span.setAttribute('graphql.outcome', outcome);
        if (status >= 500) observation.span.setStatus({ code: SpanStatusCode.ERROR });
        observation.span.end();
      }
      done();
    },
    wrap(handler) {
      return function wrapped(this: unknown, request, reply) {
        const observation = observations.get(request);
        if (observation === undefined) return handler.call(this as never, request, reply);
        return context.with(trace.setSpan(context.active(), observation.span), () => handler.call(this as never, request, reply));
      } as RouteHandlerMethod;
    },
    observerOf(request) {
      return observations.get(request);
    },
  };
}
