import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * The server's tracer. `@opentelemetry/api` is a no-op until an SDK registers a tracer provider
 * (`src/tracing-sdk.ts`, started by the entry points only when the OTEL_* variables ask for it),
 * so every layer may open spans at no cost otherwise.
 *
 * Span attributes name operations, issuers, outcomes and SQL text with placeholders only: never a
 * token, a proof, a secret or a bound parameter.
 */
export const tracer = trace.getTracer('orders-resource-server');

/**
 * Runs `fn` in a child span of the active one named `name`; the span records an exception's
 * class (its `code` when it has one, never its message, which may quote input) and ends when `fn`
 * settles.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', errorType(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A bounded name for a failure: its `code` (ERR_…), else its class name. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : error.name;
  }
  return 'unknown';
}
