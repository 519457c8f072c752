import {
  type Exit,
  exitWithin,
  killAllWorkers,
  spawnWorker,
  spawnWorkerToExit,
  stopWorker,
  tail,
} from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertRunning,
  compareIds,
  rowCounts,
  storedReadingIds,
  waitFor,
  waitUntilStoredToEnd,
} from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";
import { ownedByStack, startService, stopService, watchOutage, whyNotOwned } from "../src/stack-control.ts";
import { producedReadingIds } from "../src/topic.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, type World } from "../src/world.ts";

const TEST = "registry-outage";
const LIVE_PER_STATION = 10_000;
const LIVE_READINGS = 2 * LIVE_PER_STATION;
const BACKLOG_PER_STATION = 2_500;
const BACKLOG_READINGS = 2 * BACKLOG_PER_STATION;
const WAITING = "waiting for schema registry";

const notOwned = whyNotOwned("registry");
if (notOwned !== undefined) report(TEST, `skipped: ${notOwned}`);

/** Brings the registry back if a test left it down; the next suite (and every worker) needs it. */
async function registryBack(): Promise<number> {
  return ownedByStack("registry") ? 0 : startService("registry");
}

describe.skipIf(notOwned !== undefined)("the schema registry going away", () => {
  let live: World;
  let cold: World;

  beforeAll(async () => {
    // Both worlds need the registry to be made (bootstrap registers their schemas): made up front.
    [live, cold] = await Promise.all([createWorld("registry_live"), createWorld("registry_cold")]);
    // The cold sink's backlog, encoded while the registry is still there.
    const backlog = await spawnWorkerToExit(
      "sensor-producer",
      ["--from", "2024-01-01T00:00:00Z", "--count", String(BACKLOG_PER_STATION), "--step", "1m"],
      cold.producerEnv({ PRODUCER_SEED: "registry-cold" }),
    );
    expect(backlog.exit.code, tail(backlog.output)).toBe(0);
  });
  afterAll(async () => {
    await killAllWorkers();
    await registryBack();
    await live?.close();
    await cold?.close();
  });

  it("keeps storing with the schemas it cached while the registry is down", async () => {
    const start = performance.now();
    const sink = spawnWorker("pg-sink", [], live.sinkEnv());
    const producer = spawnWorker(
      "sensor-producer",
      [
        ...["--from", "2024-01-01T00:00:00Z", "--count", String(LIVE_PER_STATION), "--step", "1m"],
        ...["--rate", "2000", "--seed", "registry-live"],
      ],
      live.producerEnv(),
    );
    // Rows stored means both the producer and the sink have their schema cached.
    await waitFor("rows before the registry stops", async () => {
      assertRunning(sink, "the warm-up");
      return (await rowCounts(live.sql)).rows >= 2_000;
    });
    const rowsAtStop = (await rowCounts(live.sql)).rows;
    const stoppedAt = since(start);
    const outage = watchOutage("registry");
    let stopMs: number;
    let producerExit: Exit;
    let seen: Awaited<ReturnType<typeof outage.stop>>;
    try {
      stopMs = await stopService("registry");
      producerExit = await exitWithin(producer, 120_000);
      expect(producerExit.code, tail(producer.output())).toBe(0);
      await waitUntilStoredToEnd(live, sink);
    } finally {
      seen = await outage.stop();
    }
    // Still down: everything above was stored without it.
    expect(ownedByStack("registry")).toBe(false);
    const sinkExit = await stopWorker(sink);
    expect(sinkExit.code, tail(sink.output())).toBe(0);

    const counts = await rowCounts(live.sql);
    const waits = sink.logLines().filter((line) => line.msg.startsWith(WAITING)).length;
    report(
      TEST,
      `cached: registry stopped (${seconds(stopMs)}) at ${seconds(stoppedAt)} with ${rowsAtStop} of ${LIVE_READINGS} rows stored; ` +
        `it stayed down (${seen.failures} of ${seen.probes} probes failed) while the producer finished (exit ${producerExit.code})`,
      `cached: sink stored ${counts.rows - rowsAtStop} more rows without the registry, logged "${WAITING}" ${waits} times, SIGTERM exit ${sinkExit.code}`,
      `cached: rows ${counts.rows}, distinct ${counts.distinct}, duplicates ${counts.rows - counts.distinct}`,
    );
    expect(waits).toBe(0);
    expect(rowsAtStop, "most rows must arrive while the registry is down").toBeLessThan(LIVE_READINGS / 2);
    expect(counts).toEqual({ rows: LIVE_READINGS, distinct: LIVE_READINGS });
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(live);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });

  it("waits with a clear message when it starts without the registry, and stores everything once it is back", async () => {
    const start = performance.now();
    if (ownedByStack("registry")) await stopService("registry");
    // At info, so its "is back; resuming" line shows too.
    const sink = spawnWorker("pg-sink", ["--until-caught-up"], cold.sinkEnv({ LOG_LEVEL: "info" }));
    let waitingLine = "";
    await waitFor(`the sink to log "${WAITING}"`, async () => {
      assertRunning(sink, "the registry outage");
      const line = sink.logLines().find((entry) => entry.msg.startsWith(WAITING));
      waitingLine = line?.msg ?? "";
      return line !== undefined;
    });
    // Several retries, not one: the sink keeps waiting, and stores nothing meanwhile.
    await waitFor("three waits logged", async () => {
      assertRunning(sink, "the registry outage");
      return sink.logLines().filter((entry) => entry.msg.startsWith(WAITING)).length >= 3;
    });
    const rowsWhileDown = (await rowCounts(cold.sql)).rows;
    const waitsWhileDown = sink.logLines().filter((entry) => entry.msg.startsWith(WAITING)).length;
    const downFor = since(start);

    const startMs = await registryBack();
    const exit = await exitWithin(sink, 180_000);
    expect(exit.code, tail(sink.output())).toBe(0);
    const resumed = sink.logLines().some((entry) => entry.msg === "schema registry is back; resuming");

    const counts = await rowCounts(cold.sql);
    const { missing, unexpected } = compareIds(
      await producedReadingIds(cold),
      await storedReadingIds(cold.sql),
    );
    report(
      TEST,
      `cold start: sink started with the registry down; after ${seconds(downFor)} it had logged "${WAITING}" ${waitsWhileDown} times and stored ${rowsWhileDown} rows`,
      `cold start: first message: "${waitingLine}"`,
      `cold start: registry restarted by the stack, ready in ${seconds(startMs)}; sink logged "is back; resuming": ${resumed}, ` +
        `caught up and exited ${exit.code} after ${seconds(since(start))}`,
      `cold start: rows ${counts.rows}, distinct ${counts.distinct}, duplicates ${counts.rows - counts.distinct}; ` +
        `missing ${missing.length}, unexpected ${unexpected.length}`,
    );
    expect(rowsWhileDown).toBe(0);
    expect(resumed).toBe(true);
    expect(waitingLine).toMatch(/nothing is skipped/);
    expect(counts).toEqual({ rows: BACKLOG_READINGS, distinct: BACKLOG_READINGS });
    expect({ missing: missing.length, unexpected: unexpected.length }).toEqual({ missing: 0, unexpected: 0 });
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(cold);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });
});
