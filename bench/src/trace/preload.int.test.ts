import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { maintenanceUrlOf } from "@weather/db";
import { readConnectionSettings } from "@weather/service-kit";
import { afterAll, describe, expect, it } from "vitest";
import { traceOptions } from "../worker.ts";
import type { WorkerTrace } from "./recorder.ts";

describe("the tracer loaded into a process (node --import)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-trace-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("records each transaction's round trips, the partition and offset it stored, and memory", async () => {
    const file = join(dir, "trace.json");
    const { nodeFlags, env } = traceOptions(file);
    const child = spawn(
      process.execPath,
      [...nodeFlags, fileURLToPath(new URL("./preload.fixture.ts", import.meta.url))],
      {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        env: {
          ...process.env,
          ...env,
          DATABASE_URL: maintenanceUrlOf(readConnectionSettings(process.env).databaseUrl),
        },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(0);

    const trace = JSON.parse(readFileSync(file, "utf8")) as WorkerTrace;
    expect(trace.pid).toBe(child.pid);
    expect(trace.transactions.map((tx) => [tx.partition, tx.nextOffset, tx.outcome])).toEqual([
      [3, 100, "commit"],
      [3, 200, "commit"],
      [4, 50, "commit"],
    ]);
    // The first transaction also prepares its statements (one more round trip each time); the
    // others run them: BEGIN, the lock with its lookup, update + savepoint + COPY, the data, COMMIT.
    expect(trace.transactions[2]?.roundTrips.map((trip) => trip.label)).toEqual([
      "begin",
      "insert consumer_offsets + select",
      "update consumer_offsets + savepoint + copy readings",
      "copy data",
      "commit",
    ]);
    for (const tx of trace.transactions) {
      expect(tx.copyBytes).toBe(6);
      expect(tx.endedAt).toBeGreaterThanOrEqual(tx.endSentAt);
      expect(tx.endSentAt).toBeGreaterThan(tx.beginAt);
    }
    expect(trace.memory.samples.length).toBeGreaterThan(0);
    expect(trace.memory.peak?.rss).toBeGreaterThan(trace.memory.peak?.heapUsed ?? 0);
    expect(trace.memory.eventLoopDelay?.p99).toBeGreaterThan(0);
  });
});
