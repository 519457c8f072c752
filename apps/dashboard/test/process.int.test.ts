import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const appDir = fileURLToPath(new URL("..", import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** The dashboard as operators run it: its own process, with these variables on top of ours. */
function startProcess(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ["--conditions=@weather/source", "src/main.ts"], {
    cwd: appDir,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port nothing listens on (fetch refuses well-known ports such as 1 outright). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("the dashboard process", () => {
  it("exits 2 naming every bad variable before connecting to anything", async () => {
    const started = startProcess({
      DASHBOARD_PORT: "eighty",
      DASHBOARD_SINK_METRICS_URLS: "ftp://x/metrics",
    });
    expect(await started.exited).toBe(2);
    expect(started.output()).toMatch(/DASHBOARD_PORT: "eighty": expected a TCP port 0-65535/);
    expect(started.output()).toMatch(
      /DASHBOARD_SINK_METRICS_URLS: "ftp:\/\/x\/metrics": "ftp:\/\/x\/metrics" is not an http:\/\/ URL/,
    );
  });

  it("serves the page with PostgreSQL, Kafka and the sink all unreachable, saying so, and stops on SIGTERM", async () => {
    const closed = await closedPort();
    const started = startProcess({
      DASHBOARD_PORT: "0",
      DATABASE_URL: `postgres://weather_reader@127.0.0.1:${closed}/weather`,
      KAFKA_BROKERS: `127.0.0.1:${closed}`,
      DASHBOARD_SINK_METRICS_URLS: `http://127.0.0.1:${closed}/metrics`,
      DASHBOARD_SINK_DISCOVERY_PORT: "off",
      DASHBOARD_REFRESH_MS: "200",
    });
    try {
      const port = await waitFor("the listening line", () => {
        const match = /"port":(\d+),"msg":"dashboard at http/.exec(started.output());
        return match ? Number(match[1]) : undefined;
      });
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
      for (const asset of ["/app.js", "/charts.js", "/format.js", "/app.css", "/vendor/uPlot.iife.min.js"]) {
        expect((await fetch(`http://127.0.0.1:${port}${asset}`)).status, asset).toBe(200);
      }
      const snapshot = await waitFor("every source to give up", async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/snapshot`)).json()) as {
          sources: Record<string, { status: string; error: string | null; data: unknown } | null>;
        };
        const { latest, lag, deadLetters } = body.sources;
        return [latest, lag, deadLetters].every((s) => s?.status === "unavailable") ? body : undefined;
      });
      const where = `127.0.0.1:${closed}`;
      expect(snapshot.sources.latest?.error).toContain(`cannot reach PostgreSQL at ${where} (ECONNREFUSED`);
      expect(snapshot.sources.day?.error).toMatch(/^cannot reach PostgreSQL/);
      expect(snapshot.sources.lag?.error).toContain(`cannot reach Kafka at ${where}`);
      expect(snapshot.sources.deadLetters?.error).toContain(`cannot reach Kafka at ${where}`);
      expect(snapshot.sources.sinks?.data).toMatchObject({
        up: 0,
        instances: [
          {
            url: `http://${where}/metrics`,
            up: false,
            error: expect.stringContaining("not answering (ECONNREFUSED); is the sink running?"),
          },
        ],
      });
      expect(started.child.exitCode).toBeNull();
    } finally {
      started.child.kill("SIGTERM");
    }
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain("SIGTERM: stopping");
  });
});
