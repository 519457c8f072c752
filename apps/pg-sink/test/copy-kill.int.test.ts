import postgres from "postgres";
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

// Each kill leaves the killed member in the group for the session timeout (8 s in the harness).
const TIMEOUT = 240_000;

describe("pg-sink SIGKILLed while a COPY is running", () => {
  let world: World;
  const readings = makeReadings(30_000, 51);

  beforeAll(async () => {
    world = await createWorld("copy_kill", 3);
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it(
    "leaves nothing half-stored: each partition's rows match its stored offset, and a restart stores every reading once",
    async () => {
      const database = new URL(world.databaseUrl).pathname.slice(1);
      // Its own connection, so watching never waits behind the test's other queries.
      const watcher = postgres(world.databaseUrl, { max: 1, onnotice: () => {} });
      const sinkBackends = () => watcher<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = ${database} and application_name like 'pg-sink %'`;
      let killedMidCopy = 0;
      try {
        for (let attempt = 0; attempt < 3 && killedMidCopy < 2; attempt++) {
          const sink = spawnSink(world, { SINK_BATCH_SIZE: "5000" });
          // The moment one of the sink's backends has taken rows of a COPY that has not finished.
          let copying = false;
          while (!copying && sink.child.exitCode === null) {
            const [copy] = await watcher<{ tuples: string }[]>`
              select p.tuples_processed::text as tuples from pg_stat_progress_copy p
              join pg_stat_activity a on a.pid = p.pid
              where p.datname = ${database} and a.application_name like 'pg-sink %' and p.tuples_processed > 0`;
            copying = copy !== undefined;
          }
          // Finished before a COPY was seen (a very fast machine): nothing left to kill into.
          if (!copying) break;
          sink.child.kill("SIGKILL");
          expect((await sink.exited).signal, sink.output()).toBe("SIGKILL");
          killedMidCopy += 1;
          await waitFor("the killed sink's backends to end", async () => (await sinkBackends()).length === 0);

          // Rows and offsets commit together: per partition, the rows stored equal its next offset.
          const partitions = await watcher<{ partition: number; next: number; rows: number }[]>`
            select p.partition, coalesce(o.next_offset, 0)::int as next,
              (select count(*)::int from weather_readings r where r.source_partition = p.partition) as rows
            from generate_series(0, ${world.partitions - 1}) as p(partition)
            left join consumer_offsets o on o.partition = p.partition and o.topic = ${world.topic}`;
          for (const { partition, next, rows } of partitions)
            expect(rows, `partition ${partition}`).toBe(next);
          const counts = await rowCounts(world);
          expect(counts.rows).toBe(counts.distinct);
          expect(counts.rows).toBeLessThan(readings.length);
        }
      } finally {
        await watcher.end();
      }
      // Killed while PostgreSQL was taking a COPY's rows, not only between transactions.
      expect(killedMidCopy).toBeGreaterThan(0);

      const last = spawnSink(world, { SINK_BATCH_SIZE: "5000" });
      expect((await last.exited).code, last.output()).toBe(0);
      expect(await rowCounts(world)).toEqual({ rows: 30_000, distinct: 30_000 });
      expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
    },
    TIMEOUT,
  );
});
