import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Interface to listen on (`METRICS_HOST`). */
  readonly host: string;
  /** Port (`METRICS_PORT`); 0 picks a free one. */
  readonly port: number;
  /** The exposition text and its content type, built at each scrape. */
  readonly scrape: () => Promise<{ readonly contentType: string; readonly body: string }>;
}

/** A running metrics listener. */
export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` in the Prometheus text format on a listener of its own, off the public API
 * (no authentication: keep it on a private interface). Anything else is 404.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    options.scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : body),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  // Scrapes are short; idle keep-alive connections must not hold up shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
