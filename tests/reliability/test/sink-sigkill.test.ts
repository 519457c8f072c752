import { setTimeout as sleep } from "node:timers/promises";
import { seededRandom } from "@weather/schema/testing";
import {
  exitWithin,
  killAllWorkers,
  spawnWorker,
  spawnWorkerToExit,
  suiteSeed,
  tail,
} from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareIds, rowCounts, storedReadingIds, waitFor } from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";
import { producedReadingIds } from "../src/topic.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, type World } from "../src/world.ts";

const TEST = "sigkill";
const PER_STATION = 50_000; // two built-in stations: 100,000 readings
const READINGS = 2 * PER_STATION;
const KILLS = 5;

describe("pg-sink SIGKILLed during a 100,000-reading backlog", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld("sigkill");
    const started = performance.now();
    const producer = await spawnWorkerToExit(
      "sensor-producer",
      ["--from", "2024-01-01T00:00:00Z", "--count", String(PER_STATION), "--step", "1m", "--seed", "sigkill"],
      world.producerEnv(),
    );
    expect(producer.exit.code, tail(producer.output)).toBe(0);
    report(TEST, `backlog: ${READINGS} readings produced to ${world.topic} in ${seconds(since(started))}`);
  });
  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
  });

  it("stores every reading exactly once after five SIGKILLs and a drain", async () => {
    const seed = suiteSeed(20_241);
    const random = seededRandom(seed);
    // One kill point in each fifth of 5%..90% of the backlog, at least 2% (2,000 rows) past the
    // previous one, so every run stores part of the backlog before it dies.
    const band = 0.85 / KILLS;
    const targets = Array.from({ length: KILLS }, (_, i) =>
      Math.floor((0.05 + i * band + 0.02 + (band - 0.02) * random()) * READINGS),
    );
    // Small transactions, so a kill lands inside one as often as between two.
    const env = world.sinkEnv({ SINK_BATCH_SIZE: "200" });
    const start = performance.now();
    const kills: string[] = [];

    for (const planned of targets) {
      // Each run stores some rows of its own before it dies, even if the last one overshot this target.
      const target = Math.max(planned, (await rowCounts(world.sql)).rows + 1_000);
      const sink = spawnWorker("pg-sink", [], env);
      await waitFor(
        `${target} rows before kill ${kills.length + 1}`,
        async () => {
          if (!sink.running()) throw new Error(`the sink exited before its kill:\n${tail(sink.output())}`);
          return (await rowCounts(world.sql)).rows >= target;
        },
        { intervalMs: 25 },
      );
      // A seeded extra moment, so the kill lands anywhere within a transaction, not on its edge.
      await sleep(Math.floor(random() * 150));
      sink.kill("SIGKILL");
      const exit = await exitWithin(sink, 10_000);
      expect(exit.signal, tail(sink.output())).toBe("SIGKILL");
      const counts = await rowCounts(world.sql);
      expect(counts.rows, "no duplicate may appear even between kills").toBe(counts.distinct);
      expect(counts.rows, "each kill must land while the backlog is still draining").toBeLessThan(READINGS);
      kills.push(`${seconds(since(start))} (rows ${counts.rows})`);
    }

    const drainStarted = performance.now();
    const drain = spawnWorker("pg-sink", ["--until-caught-up"], env);
    const exit = await exitWithin(drain, 180_000);
    expect(exit.code, tail(drain.output())).toBe(0);
    const drainMs = since(drainStarted);

    const counts = await rowCounts(world.sql);
    const produced = await producedReadingIds(world);
    const { missing, unexpected } = compareIds(produced, await storedReadingIds(world.sql));
    report(
      TEST,
      `seed ${seed}; sink SIGKILLed ${kills.length} times at ${kills.join(", ")}`,
      `drained with --until-caught-up in ${seconds(drainMs)}; total ${seconds(since(start))}`,
      `rows ${counts.rows}, distinct ${counts.distinct}, duplicates ${counts.rows - counts.distinct}; ` +
        `topic ids ${produced.length}, missing ${missing.length}, unexpected ${unexpected.length}`,
    );
    expect(kills).toHaveLength(KILLS);
    expect(counts).toEqual({ rows: READINGS, distinct: READINGS });
    expect(produced).toHaveLength(READINGS);
    expect({ missing: missing.slice(0, 5), unexpected: unexpected.slice(0, 5) }).toEqual({
      missing: [],
      unexpected: [],
    });
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(world);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });
});
