import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createWorld,
  makeReadings,
  produceReadings,
  rowCounts,
  spawnSink,
  storedReadingIds,
  type World,
  waitFor,
} from "./harness.ts";

// Spawned sinks start a Node process each and a killed member holds its partitions for the
// session timeout, so these take a while on a busy machine.
const TIMEOUT = 240_000;

describe("pg-sink as a process", () => {
  describe("killed with SIGKILL mid-stream", () => {
    let world: World;
    const readings = makeReadings(3_000, 11);

    beforeAll(async () => {
      world = await createWorld("kill");
      await produceReadings(world, readings);
    });
    afterAll(() => world?.close());

    it(
      "stores each reading once after SIGKILLs mid-stream and a restart: no duplicate, no gap",
      async () => {
        // Small transactions, so each kill lands between or inside many of them.
        const env = { SINK_BATCH_SIZE: "25" };
        for (const killAt of [400, 1_500]) {
          const sink = spawnSink(world, env);
          await waitFor(
            `${killAt} rows before the kill`,
            async () => (await rowCounts(world)).rows >= killAt || sink.child.exitCode !== null,
          );
          sink.child.kill("SIGKILL");
          expect((await sink.exited).signal, sink.output()).toBe("SIGKILL");
          const counts = await rowCounts(world);
          expect(counts.rows).toBe(counts.distinct);
          expect(counts.rows).toBeLessThan(readings.length);
        }

        const last = spawnSink(world, env);
        const exit = await last.exited;
        expect(exit.code, last.output()).toBe(0);
        expect(await rowCounts(world)).toEqual({ rows: 3_000, distinct: 3_000 });
        expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
      },
      TIMEOUT,
    );
  });

  describe("stopped with SIGTERM", () => {
    let world: World;
    const readings = makeReadings(2_000, 12);

    beforeAll(async () => {
      world = await createWorld("term");
      await produceReadings(world, readings);
    });
    afterAll(() => world?.close());

    it(
      "finishes the batch in flight, commits to PostgreSQL and Kafka, leaves the group and exits 0",
      async () => {
        const sink = spawnSink(world, { SINK_BATCH_SIZE: "25" });
        await waitFor(
          "the first rows",
          async () => (await rowCounts(world)).rows > 0 || sink.child.exitCode !== null,
        );
        sink.child.kill("SIGTERM");
        const exit = await sink.exited;
        expect(exit.code, sink.output()).toBe(0);

        // Rows and offsets committed together: the offsets account for exactly the stored rows.
        const group = world.sinkEnv().SINK_GROUP_ID ?? "";
        const stored = await world.sql<{ partition: number; next: string }[]>`
          select partition, next_offset::text as next from consumer_offsets
          where consumer_group = ${group} and topic = ${world.topic}`;
        const total = stored.reduce((sum, r) => sum + Number(r.next), 0);
        expect((await rowCounts(world)).rows).toBe(total);
        // ...and Kafka got the same offsets after PostgreSQL, so lag tools see the truth.
        const [kafka] = await world.admin.fetchOffsets({ groupId: group, topics: [world.topic] });
        for (const { partition, next } of stored) {
          expect(kafka?.partitions.find((p) => p.partition === partition)?.offset).toBe(next);
        }

        // A leaving member hands its partitions over at once: the next run needs no session timeout.
        const rest = spawnSink(world);
        expect((await rest.exited).code, rest.output()).toBe(0);
        expect(await rowCounts(world)).toEqual({ rows: 2_000, distinct: 2_000 });
      },
      TIMEOUT,
    );
  });
});
