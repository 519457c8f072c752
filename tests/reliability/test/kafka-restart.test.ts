import { setTimeout as sleep } from "node:timers/promises";
import { exitWithin, killAllWorkers, spawnWorker, stopWorker, tail } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertRunning,
  compareIds,
  messagesOn,
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

const TEST = "kafka-restart";
const PER_STATION = 20_000;
const READINGS = 2 * PER_STATION;
/** Readings per second: long enough a run (about 20 s) that the broker goes away in the middle. */
const RATE = 2_000;
const DOWN_MS = 5_000;

const notOwned = whyNotOwned("kafka");
if (notOwned !== undefined) report(TEST, `skipped: ${notOwned}`);

describe.skipIf(notOwned !== undefined)("the Kafka broker stopped and restarted under load", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld("kafka");
  });
  afterAll(async () => {
    await killAllWorkers();
    // Whatever happened, the broker is left running and ready for whoever comes next.
    if (!ownedByStack("kafka")) await startService("kafka");
    await world?.close();
  });

  it("lets the producer retry and finish, and the sink resume, with the exact count", async () => {
    const start = performance.now();
    const sink = spawnWorker("pg-sink", [], world.sinkEnv());
    const producer = spawnWorker(
      "sensor-producer",
      [
        ...["--from", "2024-01-01T00:00:00Z", "--count", String(PER_STATION), "--step", "1m"],
        ...["--rate", String(RATE), "--seed", "kafka-restart"],
      ],
      world.producerEnv(),
    );

    await waitFor("rows before the broker stops", async () => {
      assertRunning(sink, "the warm-up");
      assertRunning(producer, "the warm-up");
      return (await rowCounts(world.sql)).rows >= 4_000;
    });
    const rowsAtStop = (await rowCounts(world.sql)).rows;
    const stoppedAt = since(start);
    let stopMs = 0;
    let startMs = 0;
    const outage = watchOutage("kafka");
    let seen = { unreachableMs: 0, probes: 0, failures: 0 };
    try {
      stopMs = await stopService("kafka");
      await sleep(DOWN_MS);
      expect(producer.running(), "the producer must wait for the broker, not give up").toBe(true);
      assertRunning(sink, "the broker outage");
    } finally {
      try {
        startMs = await startService("kafka");
      } finally {
        seen = await outage.stop();
      }
    }

    const producerExit = await exitWithin(producer, 240_000);
    expect(producerExit.code, tail(producer.output())).toBe(0);
    const producerWarnings = producer.logLines().filter((line) => line.level >= 40).length;
    await waitUntilStoredToEnd(world, sink);
    const sinkWarnings = sink.logLines().filter((line) => line.level >= 40).length;
    const sinkExit = await stopWorker(sink);
    expect(sinkExit.code, tail(sink.output())).toBe(0);

    const onTopic = await messagesOn(world.admin, world.topic);
    const counts = await rowCounts(world.sql);
    const { missing, unexpected } = compareIds(
      await producedReadingIds(world),
      await storedReadingIds(world.sql),
    );
    report(
      TEST,
      `producer at ${RATE}/s for ${READINGS} readings; broker stopped at ${seconds(stoppedAt)} (rows ${rowsAtStop}), ` +
        `unreachable for ${seconds(seen.unreachableMs)} (${seen.failures} of ${seen.probes} probes failed; ` +
        `stop took ${seconds(stopMs)}, kept down ${seconds(DOWN_MS)}, start until ready ${seconds(startMs)})`,
      `producer exit ${producerExit.code} after ${seconds(since(start))} with ${producerWarnings} warnings logged (retries); ` +
        `sink stayed up, ${sinkWarnings} warnings logged, stopped by SIGTERM with exit ${sinkExit.code}`,
      `topic messages ${onTopic}; rows ${counts.rows}, distinct ${counts.distinct}, duplicates ${counts.rows - counts.distinct}; ` +
        `missing ${missing.length}, unexpected ${unexpected.length}`,
    );
    expect(seen.failures, "the broker must really have been away").toBeGreaterThan(0);
    expect(counts).toEqual({ rows: READINGS, distinct: READINGS });
    expect({ missing: missing.length, unexpected: unexpected.length }).toEqual({ missing: 0, unexpected: 0 });
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(world);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });
});
