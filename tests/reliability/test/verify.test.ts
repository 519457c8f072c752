import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CODES } from "@weather/service-kit";
import { killAllWorkers, spawnWorkerToExit, tail } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { report, seconds, since } from "../src/report.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, type World } from "../src/world.ts";

const TEST = "verify";
/** Readings per station of the messy run (two stations). */
const PER_STATION = 6_000;

describe("verify proves every offset of a messy stream, and catches a lost row and a duplicate", () => {
  let world: World;
  const folder = mkdtempSync(join(tmpdir(), "verify-"));
  const manifest = join(folder, "manifest.json");
  let start = 0;

  beforeAll(async () => {
    start = performance.now();
    world = await createWorld("verify", { partitions: 3 });
    // Late, out of order, re-sent and invalid readings of every kind the sink dead-letters.
    const producer = await spawnWorkerToExit(
      "sensor-producer",
      [
        ...[
          "--from",
          "2026-06-01T00:00:00Z",
          "--count",
          String(PER_STATION),
          "--step",
          "1m",
          "--seed",
          "verify",
        ],
        ...["--late-fraction", "0.02", "--lateness", "exponential:20m"],
        ...["--resend-fraction", "0.02", "--resend-delay", "exponential:5m"],
        ...["--invalid-fraction", "0.01", "--manifest", manifest],
      ],
      world.producerEnv(),
      180_000,
    );
    expect(producer.exit.code, tail(producer.output)).toBe(0);
    const sink = await spawnWorkerToExit("pg-sink", ["--until-caught-up"], world.sinkEnv(), 180_000);
    expect(sink.exit.code, tail(sink.output)).toBe(0);
  }, 400_000);

  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("accounts for each offset as a row, a dead letter or a re-send, and matches the run's manifest", async () => {
    const { exit, result, summary } = await verifyWorld(world, manifest);
    report(TEST, summary, `pipeline and verify in ${seconds(since(start))}`);
    expect(result.manifest.filter((check) => !check.ok)).toEqual([]);
    expect(result.holds).toBe(true);
    expect(exit.code).toBe(EXIT_CODES.OK);
    const total = (pick: (p: (typeof result.partitions)[number]) => number) =>
      result.partitions.reduce((sum, p) => sum + pick(p), 0);
    expect(total((p) => p.rows)).toBe(2 * PER_STATION);
    expect(total((p) => p.resends)).toBeGreaterThan(0);
    expect(total((p) => p.deadLetters)).toBeGreaterThan(0);
  });

  it("fails on a row deleted by hand, naming the offset it leaves unaccounted for", async () => {
    const [row] = await world.sql<{ city: string; id: string; partition: number; offset: string }[]>`
      select city, reading_id::text as id, source_partition as partition, source_offset::text as offset
      from weather_readings order by source_partition, source_offset limit 1 offset 100`;
    if (row === undefined) throw new Error("no stored row to delete");
    await world.sql`delete from weather_readings where city = ${row.city} and reading_id = ${row.id}::uuid`;
    const { exit, result, summary } = await verifyWorld(world);
    report(TEST, `deleted the row of ${row.partition}@${row.offset}: ${summary}`);
    expect(exit.code).toBe(EXIT_CODES.CHECK_FAILED);
    const partition = result.partitions.find((p) => p.partition === row.partition);
    expect(partition?.gaps).toBe(1);
    expect(partition?.gapExamples).toEqual([row.offset]);
  });

  it("fails on a reading stored twice from one offset", async () => {
    // A stored reading a second time, from its own offset, a millisecond later: the table's key
    // (city, reading_id, observed_at) lets it in; verify must not.
    const [row] = await world.sql<{ city: string; id: string }[]>`
      select city, reading_id::text as id from weather_readings
      where source_partition = 0 order by source_offset limit 1`;
    if (row === undefined) throw new Error("no row to copy");
    await world.sql`
      insert into weather_readings (reading_id, station_id, city, observed_at, temperature_c,
        wind_speed_kmh, humidity_pct, pressure_hpa, source_topic, source_partition, source_offset)
      select reading_id, station_id, city, observed_at + interval '1 millisecond', temperature_c,
        wind_speed_kmh, humidity_pct, pressure_hpa, source_topic, source_partition, source_offset
      from weather_readings where city = ${row.city} and reading_id = ${row.id}::uuid`;
    const { exit, result, summary } = await verifyWorld(world);
    report(TEST, `stored reading ${row.id} a second time: ${summary}`);
    expect(exit.code).toBe(EXIT_CODES.CHECK_FAILED);
    expect(result.idsStoredTwice).toBe(1);
    expect(result.partitions.find((p) => p.partition === 0)?.duplicates).toBeGreaterThanOrEqual(1);
  });
});
