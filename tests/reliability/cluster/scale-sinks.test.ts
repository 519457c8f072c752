import { setTimeout as sleep } from "node:timers/promises";
import { stopWorker, tail } from "@weather/test-support";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_STATIONS,
  describeTally,
  expectEachStoredOnce,
  type SinkInstance,
  startSink,
  startSteadyProducer,
  steadyProducerArgs,
  tally,
  useClusterScenarioWorld,
  waitUntilAllStored,
} from "../src/cluster-load.ts";
import { assertRunning, rowCounts, waitFor } from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";

const TEST = "cluster-scale-sinks";
const RATE = 1_500;
const PER_STATION = 100_000;
/** Rows each phase stores (at least) before the group changes again. */
const ROWS_PER_PHASE = 10_000;

const partitionsOf = (assignment: readonly number[] | undefined) => `[${(assignment ?? []).join(",")}]`;

describe("sink instances scaled 1 -> 3 -> 1 under load", () => {
  const worldOf = useClusterScenarioWorld("scale");

  it("rebalances while chunks are in flight and stores every reading once", async () => {
    const world = worldOf();
    const start = performance.now();
    const producer = startSteadyProducer(
      world,
      steadyProducerArgs({ rate: RATE, perStation: PER_STATION, seed: "scale" }),
    );
    const first = startSink(world, "sink-a");
    const rowsReach = async (rows: number, running: readonly SinkInstance[], during: string) =>
      waitFor(`${rows} rows during ${during}`, async () => {
        assertRunning(producer.worker, during);
        for (const sink of running) assertRunning(sink.worker, during);
        return (await rowCounts(world.sql)).rows >= rows;
      });

    // One instance owns all six partitions.
    await rowsReach(ROWS_PER_PHASE, [first], "the first phase (one sink)");
    const aloneRows = (await rowCounts(world.sql)).rows;

    // Scale out to three: two joins, each a rebalance while the first instance is storing chunks.
    const scaleOutAt = since(start);
    const scaleOutEpoch = Date.now();
    const added = [startSink(world, "sink-b"), startSink(world, "sink-c")];
    const three = [first, ...added];
    await waitFor("both new instances to store rows of their own", async () => {
      for (const sink of three) assertRunning(sink.worker, "the scale-out");
      const written = await Promise.all(added.map((sink) => sink.rowsWritten().catch(() => 0)));
      return written.every((rows) => rows > 0);
    });
    const scaledOutMs = since(start) - scaleOutAt;
    const joinedAfter = added.map(
      (s) => `${s.name} ${seconds((s.firstJoinAt() ?? Number.NaN) - scaleOutEpoch)}`,
    );
    await rowsReach(aloneRows + 2 * ROWS_PER_PHASE, three, "the second phase (three sinks)");
    const assignmentsAtThree = three.map((s) => `${s.name} ${partitionsOf(s.assignments().at(-1))}`);
    const writtenAtThree = await Promise.all(three.map(async (s) => `${s.name} ${await s.rowsWritten()}`));

    // Scale back in to one: each instance leaves the group gracefully (SIGTERM), one after the other.
    const scaleInAt = since(start);
    const leaving: string[] = [];
    for (const sink of added) {
      const rows = await sink.rowsWritten();
      const exit = await stopWorker(sink.worker);
      expect(exit.code, tail(sink.worker.output())).toBe(0);
      leaving.push(
        `${sink.name} (stored ${rows}+, ${sink.assignments().length} assignments) exit ${exit.code}`,
      );
      await sleep(2_000);
    }
    const before = await first.rowsWritten();
    await waitFor("the remaining instance to take every partition back", async () => {
      assertRunning(first.worker, "the scale-in");
      return (
        (first.assignments().at(-1) ?? []).length === world.partitions && (await first.rowsWritten()) > before
      );
    });
    const scaledInMs = since(start) - scaleInAt;
    const rowsAtOne = (await rowCounts(world.sql)).rows;
    await rowsReach(rowsAtOne + ROWS_PER_PHASE, [first], "the last phase (one sink)");

    const producerExit = await stopWorker(producer.worker);
    expect(producerExit.code, tail(producer.worker.output())).toBe(0);
    const acknowledged = producer.finalCount();
    await waitUntilAllStored(world, [first.worker]);
    const firstRows = await first.rowsWritten();
    const duplicatesSkipped = await first.duplicatesSkipped();
    const firstExit = await stopWorker(first.worker);
    expect(firstExit.code, tail(first.worker.output())).toBe(0);

    const counts = await tally(world);
    report(
      TEST,
      `${CLUSTER_STATIONS} stations at ${RATE}/s; sink-a alone until ${aloneRows} rows`,
      `scaled out to 3 at ${seconds(scaleOutAt)}: joined after ${joinedAfter.join(", ")} (process start included); ` +
        `both storing ${seconds(scaledOutMs)} after the scale-out; ` +
        `assignments ${assignmentsAtThree.join(", ")}; rows stored so far ${writtenAtThree.join(", ")}`,
      `scaled in to 1 at ${seconds(scaleInAt)}: ${leaving.join("; ")}; sink-a held all ${world.partitions} partitions ` +
        `again ${seconds(scaledInMs)} later (${first.assignments().length} assignments over the run)`,
      `producer stopped by SIGTERM after ${seconds(since(start))}, ${acknowledged} acknowledged; sink-a stored ${firstRows} ` +
        `rows in all and skipped ${duplicatesSkipped} readings already stored`,
      describeTally(counts),
    );
    expect(first.assignments().length, "sink-a went through the rebalances").toBeGreaterThanOrEqual(3);
    // The topic holds each reading once, so a reading found already stored means an offset was
    // stored twice: the fence in PostgreSQL (offsets row lock, recreated-topic check) let it through.
    expect(duplicatesSkipped, "readings sink-a found already stored").toBe(0);
    await expectEachStoredOnce(TEST, world, counts, acknowledged, { topicHoldsEachOnce: true });
  });
});
