/** A started tracing SDK. */
export interface TracingSdk {
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for traces only, configured by the standard OTEL_* variables
 * (exporter, endpoint, headers, service name, sampler); loaded on demand so that a server without
 * tracing never loads it. Metrics stay with Prometheus (`METRICS_PORT`) and logs with pino, so
 * the SDK gets no metric readers and no log processors whatever OTEL_METRICS_EXPORTER says.
 * Call it before the server is built; the entry points call it when `config.telemetry.tracing`.
 */
export async function startTracingSdk(): Promise<TracingSdk> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ metricReaders: [], logRecordProcessors: [], instrumentations: [], ...(process.env['OTEL_SERVICE_NAME'] ? {} : { serviceName: 'orders-resource-server' }) });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
