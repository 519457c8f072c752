import { maintenanceUrlOf } from "@weather/db";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sink } from "../src/sink.ts";
import {
  createWorld,
  makeReadings,
  produceReadings,
  rowCounts,
  spawnSink,
  startTestSink,
  storedReadingIds,
  type World,
} from "./harness.ts";

const TIMEOUT = 240_000;

describe("pg-sink under PostgreSQL outages", () => {
  let world: World;
  const readings = makeReadings(3_000, 21);

  beforeAll(async () => {
    world = await createWorld("terminate");
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it(
    "survives its PostgreSQL connections being terminated mid-run with the exact count",
    async () => {
      // From the maintenance database, so the killer is never among the killed.
      const killer = postgres(maintenanceUrlOf(world.databaseUrl), { max: 1 });
      const database = new URL(world.databaseUrl).pathname.slice(1);
      // As its own process, which ends with BUG on any uncaught error: that postgres.js survives
      // its backends dying at any moment is the patch's to prove (docs/dependencies.md), here end to end.
      const sink = spawnSink(world, { SINK_BATCH_SIZE: "25" });
      let terminated = 0;
      let done = false;
      const exited = sink.exited.then((exit) => {
        done = true;
        return exit;
      });
      try {
        while (!done) {
          const rows = await killer<{ pid: number }[]>`
            select pg_terminate_backend(pid), pid from pg_stat_activity
            where datname = ${database} and application_name like 'pg-sink %' and pid <> pg_backend_pid()`;
          terminated += rows.length;
          await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
        }
      } finally {
        sink.child.kill("SIGKILL");
        await killer.end();
      }
      expect((await exited).code, sink.output()).toBe(0);
      expect(terminated).toBeGreaterThan(3);
      expect(await rowCounts(world)).toEqual({ rows: readings.length, distinct: readings.length });
      expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
    },
    TIMEOUT,
  );
});

describe("pg-sink with three instances in one group", () => {
  let world: World;
  const readings = makeReadings(3_000, 22);

  beforeAll(async () => {
    world = await createWorld("group", 4);
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it(
    "splits the partitions and ends with the exact count",
    async () => {
      const sinks: Sink[] = [];
      try {
        // Joining one after another forces rebalances while batches are in flight.
        for (const name of ["a", "b", "c"]) {
          sinks.push(await startTestSink(world, { SINK_BATCH_SIZE: "25" }, { instanceId: `group-${name}` }));
          await new Promise((r) => setTimeout(r, 300));
        }
        await Promise.all(sinks.map((s) => s.caughtUp));
      } finally {
        await Promise.all(sinks.map((s) => s.stop()));
      }
      expect(await rowCounts(world)).toEqual({ rows: 3_000, distinct: 3_000 });
      expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
    },
    TIMEOUT,
  );
});
