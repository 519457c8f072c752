import { setTimeout as sleep } from "node:timers/promises";
import { stopWorker, tail } from "@weather/test-support";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_STATIONS,
  describeTally,
  drainAndStopSinks,
  expectEachStoredOnce,
  partitionStates,
  startClusterLoad,
  tally,
  useClusterScenarioWorld,
  waitForFullIsr,
} from "../src/cluster-load.ts";
import { clusterNodes, startNodes, stopNode } from "../src/cluster-stack.ts";
import { rowCounts, waitFor } from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";

const TEST = "cluster-rolling-restart";
const RATE = 1_200;
/** More than the run can send: the producer is stopped (SIGTERM) after the last node is back. */
const PER_STATION = 100_000;
/** How long each node stays stopped before it is started again. */
const DOWN_MS = 5_000;

describe("a rolling restart of all three brokers under load", () => {
  const worldOf = useClusterScenarioWorld("rolling");

  it("restarts one node at a time, waiting for full replicas in between, and loses or doubles nothing", async () => {
    const world = worldOf();
    const start = performance.now();
    const { sinks, producer, assertAllRunning } = startClusterLoad(world, {
      rate: RATE,
      perStation: PER_STATION,
      seed: "rolling-restart",
    });
    await waitFor("rows before the first restart", async () => {
      assertAllRunning("the warm-up");
      return (await rowCounts(world.sql)).rows >= 8_000;
    });

    const steps: string[] = [];
    for (const node of clusterNodes) {
      const ledBefore = (await partitionStates(world.admin, world.topic)).filter(
        (p) => p.leader === node.id,
      ).length;
      const ackedBefore = producer.acknowledged();
      const stopStarted = performance.now();
      // SIGTERM: a controlled shutdown, leadership moves to the other nodes first.
      await stopNode(node);
      const stopMs = since(stopStarted);
      await sleep(DOWN_MS);
      assertAllRunning(`${node.name}'s restart`);
      const ackedWhileDown = producer.acknowledged() - ackedBefore;
      const startStarted = performance.now();
      await startNodes([node]);
      const startMs = since(startStarted);
      const syncMs = await waitForFullIsr(world.admin, [
        world.topic,
        world.deadLetterTopic,
        "__consumer_offsets",
      ]);
      assertAllRunning(`${node.name}'s restart`);
      steps.push(
        `${node.name} (led ${ledBefore} of ${world.partitions}): stopped in ${seconds(stopMs)}, down ${seconds(DOWN_MS)} ` +
          `with ${ackedWhileDown} readings acknowledged meanwhile, ready ${seconds(startMs)} after its start, ` +
          `all replicas in sync ${seconds(syncMs)} later`,
      );
      expect(ackedWhileDown, `the producer went on while ${node.name} was down`).toBeGreaterThan(0);
    }
    const restartedAt = since(start);

    await sleep(3_000);
    const producerExit = await stopWorker(producer.worker);
    expect(producerExit.code, tail(producer.worker.output())).toBe(0);
    const acknowledged = producer.finalCount();
    const perSink = await drainAndStopSinks(world, sinks);
    const producerRetries = producer.worker.logLines().filter((l) => l.level >= 50).length;

    const counts = await tally(world);
    report(
      TEST,
      `${CLUSTER_STATIONS} stations at ${RATE}/s, 3 sinks; nodes restarted one at a time (SIGTERM, then up again):`,
      ...steps.map((step) => `  ${step}`),
      `rolling restart done at ${seconds(restartedAt)}; producer stopped by SIGTERM after ${seconds(since(start))}, ` +
        `${acknowledged} acknowledged, ${producerRetries} send errors logged and retried`,
      `rows stored per sink: ${perSink}`,
      describeTally(counts),
    );
    await expectEachStoredOnce(TEST, world, counts, acknowledged, { topicHoldsEachOnce: true });
  });
});
