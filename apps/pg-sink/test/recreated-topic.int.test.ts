import { createTopicsAndWait } from "@weather/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewindOffsetsBeyondEnd } from "../src/recreated-topic.ts";
import { OFFSETS_TABLE } from "../src/sql/tables.ts";
import {
  createWorld,
  makeReadings,
  produceReadings,
  rowCounts,
  spawnSink,
  storedReadingIds,
  type World,
} from "./harness.ts";

const TIMEOUT = 180_000;

// Offsets stored in PostgreSQL outlive the topic they were taken from when the topic is deleted and
// created again, or when Kafka is reset while PostgreSQL is kept (a fresh local stack on a machine
// whose PostgreSQL keeps the database). Trusted blindly, they would skip the new log's messages.
describe("a readings topic deleted and created again", () => {
  let world: World;
  const before = makeReadings(600, 31);
  const after = makeReadings(90, 32);

  beforeAll(async () => {
    world = await createWorld("recreated", 3);
  });
  afterAll(() => world?.close());

  it(
    "is read again from its start, storing the new readings and none twice",
    async () => {
      await produceReadings(world, before);
      const first = spawnSink(world);
      expect((await first.exited).code, first.output()).toBe(0);
      expect(await rowCounts(world)).toEqual({ rows: 600, distinct: 600 });

      await world.admin.deleteTopics({ topics: [world.topic] });
      // Deletion is asynchronous in the broker; creating too soon fails with "already exists".
      for (let attempt = 0; ; attempt++) {
        try {
          await createTopicsAndWait(world.admin, [{ topic: world.topic, numPartitions: world.partitions }]);
          const { topics } = await world.admin.fetchTopicMetadata({ topics: [world.topic] });
          if (topics[0]?.partitions.length === world.partitions) break;
        } catch (error) {
          if (attempt > 40) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // The new log: 90 new readings and 30 the sink already stored (as a replay would bring).
      await produceReadings(world, [...after, ...before.slice(0, 30)]);

      const second = spawnSink(world, { LOG_LEVEL: "warn" });
      const exit = await second.exited;
      expect(exit.code, second.output()).toBe(0);
      expect(second.output()).toMatch(/lies beyond the partition's end/);
      expect(await rowCounts(world)).toEqual({ rows: 690, distinct: 690 });
      expect(await storedReadingIds(world)).toEqual([...before, ...after].map((r) => r.readingId).sort());
    },
    TIMEOUT,
  );
});

// The check runs while other instances of the group keep storing chunks (a scale-out under load).
describe("the recreated-topic check beside a busy group", () => {
  let world: World;
  const group = "rewind-race";

  beforeAll(async () => {
    world = await createWorld("rewind-race", 2);
  });
  afterAll(() => world?.close());

  const storeOffsets = async (next: readonly number[]) => {
    for (const [partition, offset] of next.entries()) {
      await world.sql`
        insert into ${world.sql(OFFSETS_TABLE)} (consumer_group, topic, partition, next_offset)
        values (${group}, ${world.topic}, ${partition}, ${offset})
        on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset`;
    }
  };
  const storedOffsets = async () =>
    (
      await world.sql<{ next: string }[]>`
        select next_offset::text as next from ${world.sql(OFFSETS_TABLE)}
        where consumer_group = ${group} and topic = ${world.topic} order by partition`
    ).map((row) => Number(row.next));

  it("leaves a partition alone that another instance stored past the watermarks while they were fetched", async () => {
    await storeOffsets([400, 500]);
    const rewound = await rewindOffsetsBeyondEnd(world.sql, group, world.topic, async () => {
      // Another instance commits chunks while the watermarks are on their way.
      await storeOffsets([900, 500]);
      return [
        { partition: 0, low: "0", high: "800" },
        { partition: 1, low: "0", high: "800" },
      ];
    });
    expect(rewound).toEqual([]);
    expect(await storedOffsets()).toEqual([900, 500]);
  });

  it("rewinds only the partitions whose stored offset lies beyond the end, to the log's start", async () => {
    await storeOffsets([400, 5_000]);
    const rewound = await rewindOffsetsBeyondEnd(world.sql, group, world.topic, async () => [
      { partition: 0, low: "0", high: "450" },
      { partition: 1, low: "20", high: "60" },
    ]);
    expect(rewound).toEqual([{ partition: 1, stored: 5_000n, high: 60n, restartAt: 20n }]);
    expect(await storedOffsets()).toEqual([400, 20]);
  });
});
