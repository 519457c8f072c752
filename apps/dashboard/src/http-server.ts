import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { DashboardState } from "./dashboard-state.ts";

export interface WebServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface WebServerOptions {
  readonly host: string;
  readonly port: number;
  readonly state: DashboardState;
  /** Seconds between SSE heartbeats, which keep proxies from closing an idle stream. */
  readonly heartbeatMs?: number;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/**
 * The page and everything it loads, read once at start from public/ and from the uplot package, so
 * nothing is fetched from the internet at run time. src/ and dist/ both sit next to public/.
 */
function loadAssets(): Map<string, Asset> {
  const publicDir = fileURLToPath(new URL("../public/", import.meta.url));
  const require = createRequire(import.meta.url);
  const file = (path: string, type: string): Asset => ({ body: readFileSync(path), type });
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  return new Map([
    ["/", file(`${publicDir}index.html`, "text/html; charset=utf-8")],
    ["/app.js", file(`${publicDir}app.js`, js)],
    ["/format.js", file(`${publicDir}format.js`, js)],
    ["/charts.js", file(`${publicDir}charts.js`, js)],
    ["/app.css", file(`${publicDir}app.css`, css)],
    ["/favicon.svg", file(`${publicDir}favicon.svg`, "image/svg+xml")],
    // Browsers ask for it whatever the page links; a 404 would be a console error.
    ["/favicon.ico", file(`${publicDir}favicon.svg`, "image/svg+xml")],
    ["/vendor/uPlot.iife.min.js", file(require.resolve("uplot/dist/uPlot.iife.min.js"), js)],
    ["/vendor/uPlot.min.css", file(require.resolve("uplot/dist/uPlot.min.css"), css)],
  ]);
}

/**
 * The page may load from this server only: no inline code, no other origin. The browser itself
 * then refuses anything from the internet, which the browser tests rely on.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * GET / (the page and its assets), /events (server-sent events: a "snapshot" when a page connects,
 * then a "source" event per change), /api/snapshot (the same state as JSON) and /healthz.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const assets = loadAssets();
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<ServerResponse>();

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/events") return openEventStream(response);
    if (path === "/api/snapshot") return sendJson(response, 200, options.state.snapshot());
    if (path === "/healthz") return sendJson(response, 200, { status: "ok" });
    const asset = assets.get(path === "/index.html" ? "/" : path);
    if (!asset) return sendJson(response, 404, { error: `no such page ${path}; the dashboard is at /` });
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": asset.type,
      "content-length": asset.body.length,
      // Assets change with a deploy, which restarts the server: revalidating is cheap and never stale.
      "cache-control": "no-cache",
    });
    response.end(request.method === "HEAD" ? undefined : asset.body);
  };

  const openEventStream = (response: ServerResponse) => {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Tells nginx-style proxies not to buffer the stream.
      "x-accel-buffering": "no",
    });
    // A page that lost the stream (dashboard restarted) reconnects after two seconds.
    response.write(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify(options.state.snapshot())}\n\n`);
    const unsubscribe = options.state.subscribe((update) => {
      response.write(`event: source\ndata: ${JSON.stringify(update)}\n\n`);
    });
    const heartbeat = setInterval(() => response.write(": heartbeat\n\n"), heartbeatMs);
    streams.add(response);
    response.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(response);
    });
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw new Error(
      `cannot listen on ${options.host}:${options.port} (${(error as NodeJS.ErrnoException).code ?? error}); set DASHBOARD_PORT to a free port or DASHBOARD_HOST to an address of this machine`,
      { cause: error },
    );
  });

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}
