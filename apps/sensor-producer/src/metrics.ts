import { createServer, type Server } from "node:http";
import type { Logger } from "@weather/service-kit";
import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry of its own, so tests and several producers in one process never share counters. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsServer {
  close(): Promise<void>;
}

/** Serves GET /metrics in the Prometheus text format; it owns its HTTP server. */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  logger: Logger,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found; try GET /metrics\n");
      return;
    }
    registry
      .metrics()
      .then((body) => response.writeHead(200, { "content-type": registry.contentType }).end(body))
      .catch((error: unknown) => {
        logger.error({ err: error }, "cannot render metrics");
        response.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        new Error(
          `cannot serve metrics on port ${port} (${error.message}); set PRODUCER_METRICS_PORT to a free port`,
        ),
      ),
    );
    server.listen(port, resolve);
  });
  logger.info({ port }, "serving Prometheus metrics at /metrics");
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
