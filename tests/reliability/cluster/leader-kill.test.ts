import { setTimeout as sleep } from "node:timers/promises";
import { stopWorker, tail } from "@weather/test-support";
import { describe, expect, it } from "vitest";
import {
  busiestPartition,
  CLUSTER_STATIONS,
  describeTally,
  drainAndStopSinks,
  expectEachStoredOnce,
  leaderOf,
  startClusterLoad,
  tally,
  useClusterScenarioWorld,
  waitForFullIsr,
} from "../src/cluster-load.ts";
import { killNode, nodeById, startNodes } from "../src/cluster-stack.ts";
import { rowCounts, waitFor } from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";

const TEST = "cluster-leader-kill";
/** Readings per second over all twelve stations: steady, well below what the cluster takes. */
const RATE = 1_200;
/** More than the run can send: the producer is stopped (SIGTERM) once the broker is back. */
const PER_STATION = 100_000;
/** At least this long without the killed broker, under load. */
const DOWN_MS = 15_000;

describe("the leader of a busy partition SIGKILLed under load, three sinks consuming", () => {
  const worldOf = useClusterScenarioWorld("leaderkill");

  it("fails over, keeps producing with two copies, and stores every acknowledged reading once", async () => {
    const world = worldOf();
    const start = performance.now();
    const { sinks, producer, assertAllRunning } = startClusterLoad(world, {
      rate: RATE,
      perStation: PER_STATION,
      seed: "leader-kill",
    });

    await waitFor("rows before the kill", async () => {
      assertAllRunning("the warm-up");
      return (await rowCounts(world.sql)).rows >= 12_000;
    });
    const busy = await busiestPartition(world.admin, world.topic);
    const victim = nodeById(await leaderOf(world.admin, world.topic, busy.partition));
    const ackedAtKill = producer.acknowledged();
    const killedAt = since(start);
    await killNode(victim);

    // The controller notices the dead broker (its session times out) and elects another leader.
    let newLeader = victim.id;
    await waitFor(`a new leader for ${world.topic}[${busy.partition}]`, async () => {
      assertAllRunning("the failover");
      newLeader = await leaderOf(world.admin, world.topic, busy.partition).catch(() => victim.id);
      return newLeader !== victim.id && newLeader >= 0;
    });
    const failoverMs = since(start) - killedAt;
    // Still down: the producer goes on with acks=all from the two remaining copies.
    const ackedAtFailover = producer.acknowledged();
    await waitFor("readings acknowledged with the broker down", async () => {
      assertAllRunning("the outage");
      return producer.acknowledged() >= ackedAtFailover + 5 * RATE && since(start) - killedAt >= DOWN_MS;
    });
    const ackedWhileDown = producer.acknowledged() - ackedAtKill;
    const downMs = since(start) - killedAt;

    const restartStarted = performance.now();
    await startNodes([victim]);
    const restartMs = since(restartStarted);
    const catchUpMs = await waitForFullIsr(world.admin, [world.topic, world.deadLetterTopic]);
    assertAllRunning("the restart");
    // A little more load with the broker back, then the producer is stopped as an operator would.
    await sleep(3_000);
    const producerExit = await stopWorker(producer.worker);
    expect(producerExit.code, tail(producer.worker.output())).toBe(0);
    const acknowledged = producer.finalCount();
    const perSink = await drainAndStopSinks(world, sinks);

    const counts = await tally(world);
    report(
      TEST,
      `${CLUSTER_STATIONS} stations at ${RATE}/s, 3 sinks; busiest partition ${busy.partition} (${busy.messages} messages) led by ${victim.name}`,
      `${victim.name} SIGKILLed at ${seconds(killedAt)} (${ackedAtKill} acknowledged); node ${newLeader} led the partition ` +
        `${seconds(failoverMs)} later; ${ackedWhileDown} readings acknowledged during the ${seconds(downMs)} without it`,
      `${victim.name} restarted in ${seconds(restartMs)}, all replicas in sync ${seconds(catchUpMs)} later; ` +
        `producer stopped by SIGTERM after ${seconds(since(start))}, ${acknowledged} acknowledged`,
      `rows stored per sink: ${perSink}`,
      describeTally(counts),
    );
    expect(newLeader).not.toBe(victim.id);
    expect(ackedWhileDown).toBeGreaterThan(0);
    // Idempotence held across the failover: the topic holds each acknowledged reading once.
    await expectEachStoredOnce(TEST, world, counts, acknowledged, { topicHoldsEachOnce: true });
  });
});
