import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { WorkerError } from "./errors.ts";

export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  /** What /readyz reports; absent: ready whenever alive. */
  readonly readiness?: () => Readiness;
  /** The setting that chooses the port, named when it is taken. */
  readonly portSetting: string;
}

/**
 * A worker's operations endpoints, on one port: /healthz (the process is alive), /readyz (ready
 * for work, e.g. connected and owning partitions; 503 otherwise, with the reason), /metrics
 * (Prometheus text format). It owns its HTTP server: close() stops it.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      const readiness = options.readiness?.() ?? { ready: true };
      return json(readiness.ready ? 200 : 503, readiness);
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => {
          response.writeHead(200, { "content-type": options.registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(`metrics failed: ${(error as Error).message}`);
        },
      );
      return;
    }
    json(404, { error: `no route ${path}; try /healthz, /readyz or /metrics` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw new WorkerError(
      "CONFIGURATION",
      `cannot listen on port ${options.port} (${(error as NodeJS.ErrnoException).code ?? error})`,
      { cause: error, hint: `set ${options.portSetting} to a free port, or 0 for any` },
    );
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
