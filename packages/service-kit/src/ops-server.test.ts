import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerError } from "./errors.ts";
import { type OpsServer, startOpsServer } from "./ops-server.ts";

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(readiness?: () => { ready: boolean; [detail: string]: unknown }) {
  const registry = new Registry();
  new Counter({ name: "demo_events_total", help: "events", registers: [registry] }).inc(3);
  const server = await startOpsServer({
    port: 0,
    host: "127.0.0.1",
    portSetting: "DEMO_PORT",
    registry,
    ...(readiness ? { readiness } : {}),
  });
  servers.push(server);
  return (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
}

describe("startOpsServer: a worker's /healthz, /readyz and /metrics", () => {
  it("answers health, readiness with its reason, and Prometheus metrics", async () => {
    let ready = false;
    const get = await serve(() => ({ ready, waitingFor: ready ? null : "PostgreSQL" }));
    expect((await get("/healthz")).status).toBe(200);
    const notYet = await get("/readyz");
    expect(notYet.status).toBe(503);
    expect(await notYet.json()).toEqual({ ready: false, waitingFor: "PostgreSQL" });
    ready = true;
    expect((await get("/readyz")).status).toBe(200);
    const metrics = await get("/metrics");
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("demo_events_total 3");
    expect((await get("/nothing")).status).toBe(404);
  });

  it("is ready whenever alive when the worker has no readiness of its own", async () => {
    const get = await serve();
    expect((await get("/readyz")).status).toBe(200);
  });

  it("names the setting to change when its port is taken", async () => {
    const registry = new Registry();
    const first = await startOpsServer({ port: 0, host: "127.0.0.1", portSetting: "DEMO_PORT", registry });
    servers.push(first);
    const taken = await startOpsServer({
      port: first.port,
      host: "127.0.0.1",
      portSetting: "DEMO_PORT",
      registry,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(taken).toBeInstanceOf(WorkerError);
    expect(taken).toMatchObject({
      code: "CONFIGURATION",
      hint: "set DEMO_PORT to a free port, or 0 for any",
    });
  });
});
