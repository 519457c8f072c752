import { subjectPath, valueSubjectOf } from "@weather/schema";
import { fetchRegistry } from "@weather/service-kit";
import {
  exitWithin,
  killAllWorkers,
  spawnWorker,
  stopWorker,
  tail,
  testSettings,
} from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messagesOn, rowCounts, waitFor, waitUntilStoredToEnd } from "../src/counts.ts";
import { report, seconds, since } from "../src/report.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, type World } from "../src/world.ts";

const TEST = "schema-evolution";
const PER_STATION = 5_000;
const PER_VERSION = 2 * PER_STATION;
/** v1 readings are observed before this instant, v2 readings from it on: how the rows tell them apart. */
const V2_FROM = "2024-07-01T00:00:00Z";

interface VersionCounts {
  readonly version: number;
  readonly rows: number;
  readonly withPressure: number;
}

describe("live schema evolution from v1 to v2", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld("evolve");
  });
  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
  });

  it("stores v1 and v2 readings from one running sink, nothing dead-lettered", async () => {
    const start = performance.now();
    const sink = spawnWorker("pg-sink", [], world.sinkEnv());
    const produce = async (version: 1 | 2, from: string) => {
      const producer = spawnWorker(
        "sensor-producer",
        [
          ...["--from", from, "--count", String(PER_STATION), "--step", "1m", "--rate", "5000"],
          ...["--schema-version", String(version), "--seed", `evolve-v${version}`],
        ],
        world.producerEnv({ LOG_LEVEL: "info" }),
      );
      const exit = await exitWithin(producer, 120_000);
      expect(exit.code, tail(producer.output())).toBe(0);
      const started = producer.logLines().find((line) => line.msg === "producing readings");
      return { schemaId: started?.schemaId, version: started?.schemaVersion };
    };

    const v1 = await produce(1, "2024-01-01T00:00:00Z");
    // The sink has been reading v1 when the producer switches: it must pick up v2 on the fly.
    await waitFor("v1 rows stored", async () => (await rowCounts(world.sql)).rows >= PER_VERSION / 2);
    const rowsAtSwitch = (await rowCounts(world.sql)).rows;
    const v2 = await produce(2, V2_FROM);
    await waitUntilStoredToEnd(world, sink);
    const sinkExit = await stopWorker(sink);
    expect(sinkExit.code, tail(sink.output())).toBe(0);

    const byVersion = await world.sql<VersionCounts[]>`
      select case when observed_at < ${V2_FROM}::timestamptz then 1 else 2 end as version,
        count(*)::int as rows, count(pressure_hpa)::int as "withPressure"
      from weather_readings group by 1 order by 1`;
    const counts = await rowCounts(world.sql);
    const deadLetters = await messagesOn(world.admin, world.deadLetterTopic);
    const versions = (await (
      await fetchRegistry(testSettings.registry, `${subjectPath(valueSubjectOf(world.topic))}/versions`)
    ).json()) as number[];
    report(
      TEST,
      `sink running throughout; producer v1 (schema id ${String(v1.schemaId)}) sent ${PER_VERSION}, then with ${rowsAtSwitch} rows stored ` +
        `the producer switched to --schema-version 2 (schema id ${String(v2.schemaId)}) and sent ${PER_VERSION}; subject versions ${JSON.stringify(versions)}`,
      ...byVersion.map(
        (row) =>
          `v${row.version} rows ${row.rows}: pressure_hpa set on ${row.withPressure}, null on ${row.rows - row.withPressure}`,
      ),
      `rows ${counts.rows}, distinct ${counts.distinct}; dead letters ${deadLetters}; sink SIGTERM exit ${sinkExit.code}; total ${seconds(since(start))}`,
    );
    expect(v1.version).toBe(1);
    expect(v2.version).toBe(2);
    expect(v2.schemaId).not.toBe(v1.schemaId);
    expect(versions).toHaveLength(2);
    expect(byVersion).toEqual([
      { version: 1, rows: PER_VERSION, withPressure: 0 },
      { version: 2, rows: PER_VERSION, withPressure: PER_VERSION },
    ]);
    expect(counts).toEqual({ rows: 2 * PER_VERSION, distinct: 2 * PER_VERSION });
    expect(deadLetters).toBe(0);
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(world);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });
});
