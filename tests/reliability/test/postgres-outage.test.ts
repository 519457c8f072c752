import { setTimeout as sleep } from "node:timers/promises";
import { maintenanceUrlOf } from "@weather/db";
import { killAllWorkers, spawnWorker, stopWorker, tail, type Worker } from "@weather/test-support";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import {
  assertRunning,
  compareIds,
  rowCounts,
  storedReadingIds,
  waitFor,
  waitUntilStoredToEnd,
} from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";
import { ownedByStack, startService, stopService, whyNotOwned } from "../src/stack-control.ts";
import { producedReadingIds } from "../src/topic.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, SUITE_APPLICATION_NAME, type World } from "../src/world.ts";

const TEST = "postgres-outage";
const PER_STATION = 15_000;
const READINGS = 2 * PER_STATION;
const RATE = 3_000;
/** Time between two rounds of pg_terminate_backend. */
const TERMINATE_EVERY_MS = 300;

const serverNotOwned = whyNotOwned("postgres");
if (serverNotOwned !== undefined) report(TEST, `server restart skipped: ${serverNotOwned}`);

const worlds: World[] = [];

/**
 * Runs a rate-limited producer and a live sink on a fresh world, calls `disrupt` once the sink
 * stores rows, then drains and checks the exact count. Returns what it printed.
 */
async function underLoad(
  label: string,
  disrupt: (world: World, producer: Worker, sink: Worker) => Promise<string>,
): Promise<void> {
  const world = await createWorld(label);
  worlds.push(world);
  const start = performance.now();
  // Small transactions: more of them are in flight when a backend dies.
  const sink = spawnWorker("pg-sink", [], world.sinkEnv({ SINK_BATCH_SIZE: "100" }));
  const producer = spawnWorker(
    "sensor-producer",
    [
      ...["--from", "2024-01-01T00:00:00Z", "--count", String(PER_STATION), "--step", "1m"],
      ...["--rate", String(RATE), "--seed", label],
    ],
    world.producerEnv(),
  );
  await waitFor("the first rows", async () => {
    assertRunning(sink, "the warm-up");
    return (await rowCounts(world.sql)).rows > 0;
  });
  const disrupted = await disrupt(world, producer, sink);

  const producerExit = await producer.exited;
  expect(producerExit.code, tail(producer.output())).toBe(0);
  await waitUntilStoredToEnd(world, sink);
  const sinkWarnings = sink.logLines().filter((line) => line.level >= 40).length;
  const waits = sink.logLines().filter((line) => line.msg.startsWith("waiting for PostgreSQL")).length;
  const sinkExit = await stopWorker(sink);
  expect(sinkExit.code, tail(sink.output())).toBe(0);

  const counts = await rowCounts(world.sql);
  const { missing, unexpected } = compareIds(
    await producedReadingIds(world),
    await storedReadingIds(world.sql),
  );
  report(
    TEST,
    `producer at ${RATE}/s for ${READINGS} readings; ${disrupted}`,
    `sink stayed up, ${sinkWarnings} warnings logged (${waits} "waiting for PostgreSQL"), drained and stopped by SIGTERM with exit ${sinkExit.code}; total ${seconds(since(start))}`,
    `rows ${counts.rows}, distinct ${counts.distinct}, duplicates ${counts.rows - counts.distinct}; ` +
      `missing ${missing.length}, unexpected ${unexpected.length}`,
  );
  expect(counts).toEqual({ rows: READINGS, distinct: READINGS });
  expect({ missing: missing.length, unexpected: unexpected.length }).toEqual({ missing: 0, unexpected: 0 });
  // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
  const verified = await verifyWorld(world);
  report(TEST, verified.summary);
  expect(verified.result.holds, verified.summary).toBe(true);
}

describe("PostgreSQL going away under load", () => {
  afterAll(async () => {
    await killAllWorkers();
    // A restart test that failed half-way must not leave the server down.
    if (serverNotOwned === undefined && !ownedByStack("postgres")) await startService("postgres");
    for (const world of worlds) await world.close();
  });

  it("stores every reading exactly once while the sink's connections keep being terminated", async () => {
    await underLoad("pgterm", async (world, producer, sink) => {
      // From the maintenance database, so the terminator is never among the terminated.
      const admin = postgres(maintenanceUrlOf(world.databaseUrl), { max: 1, onnotice: () => {} });
      let terminated = 0;
      let rounds = 0;
      try {
        while (producer.running()) {
          // pg_terminate_backend in the select list, never in WHERE: the planner may evaluate WHERE
          // clauses in any order, and must not terminate a backend before the filters ran.
          const killed = await admin<{ pid: number; terminated: boolean }[]>`
            select pid, pg_terminate_backend(pid) as terminated from pg_stat_activity
            where datname = ${world.database} and pid <> pg_backend_pid()
              and application_name <> ${SUITE_APPLICATION_NAME}`;
          terminated += killed.filter((row) => row.terminated).length;
          rounds++;
          assertRunning(sink, "the terminations");
          await sleep(TERMINATE_EVERY_MS);
        }
      } finally {
        await admin.end({ timeout: 5 });
      }
      expect(terminated).toBeGreaterThan(5);
      return `${terminated} sink backends terminated in ${rounds} rounds every ${TERMINATE_EVERY_MS} ms while the producer ran`;
    });
  });

  it.skipIf(serverNotOwned !== undefined)(
    "stores every reading exactly once across a restart of the PostgreSQL server",
    async () => {
      await underLoad("pgrestart", async () => {
        const stopMs = await stopService("postgres");
        const startMs = await startService("postgres");
        return `server restarted by the stack (stop ${seconds(stopMs)}, start until ready ${seconds(startMs)})`;
      });
    },
  );
});
