import { randomUUID } from "node:crypto";
import { connectOnce, createDatabaseIfMissing, dropDatabaseIfExists } from "@weather/db";
import { createLogger } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBootstrap } from "../src/bootstrap.ts";
import { BOOTSTRAP_WORKER } from "../src/config.ts";
import { runBootstrapProcess, testEnvironment } from "./harness.ts";

const log = createLogger("bootstrap-test", { level: "silent" });

/** Stores a reading of `city` observed at `observedAt`, through the parent, as the sink does. */
async function storeReading(databaseUrl: string, city: string, observedAt: string): Promise<string> {
  const sql = connectOnce(databaseUrl);
  const id = randomUUID();
  try {
    await sql`
      insert into weather_readings (reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh,
        humidity_pct, source_topic, source_partition, source_offset)
      values (${id}, ${city === "winnipeg" ? "CYWG" : "CYVR"}, ${city}, ${observedAt}, 1, 2, 3, 't', 0, 0)`;
    return id;
  } finally {
    await sql.end();
  }
}

async function tableOf(databaseUrl: string, readingId: string): Promise<string | undefined> {
  const sql = connectOnce(databaseUrl);
  try {
    const [row] = await sql<{ table: string }[]>`
      select tableoid::regclass::text as table from weather_readings where reading_id = ${readingId}`;
    return row?.table;
  } finally {
    await sql.end();
  }
}

describe("bootstrap --maintain", () => {
  const environment = testEnvironment("maintain");
  const { env, databaseUrl } = environment;
  beforeAll(async () => {
    await runBootstrap(configurationOf(BOOTSTRAP_WORKER, env), log);
  });
  afterAll(() => environment.cleanup());

  it("moves a reading of a month without partition out of the default, then finds nothing to do", async () => {
    const id = await storeReading(databaseUrl, "winnipeg", "2019-05-17T08:00:00Z");
    expect(await tableOf(databaseUrl, id)).toBe("weather_readings_winnipeg_default");

    const first = await runBootstrapProcess(env, ["--maintain"]);
    expect(first.code, first.errorLines.join("\n")).toBe(0);
    expect(first.stdout).toContain("maintenance: done, 2 city tables, every month kept\n");
    expect(first.stdout).toContain("  - months 2019-05 of weather_readings_winnipeg\n");
    expect(first.stdout).toContain("  - 1 row of weather_readings_winnipeg out of its default partition\n");
    expect(await tableOf(databaseUrl, id)).toBe("weather_readings_winnipeg_2019_05");

    const second = await runBootstrapProcess(env, ["--maintain"]);
    expect(second.code, second.errorLines.join("\n")).toBe(0);
    expect(second.stdout).toContain("nothing to do, everything was in place");
    expect(second.stdout).not.toMatch(/created:|moved:|dropped:/);
  });

  it("lets two runs at once both exit 0, each month created by one of them", async () => {
    await storeReading(databaseUrl, "winnipeg", "2018-03-01T00:00:00Z");
    await storeReading(databaseUrl, "vancouver", "2018-04-01T00:00:00Z");
    const runs = await Promise.all([1, 2].map(() => runBootstrapProcess(env, ["--maintain"])));
    expect(
      runs.map((run) => run.code),
      runs.flatMap((run) => run.errorLines).join("\n"),
    ).toEqual([0, 0]);
    // The lines for people (the JSON log line says the same once more).
    const output = runs.map((run) => run.stdout).join("\n");
    expect(output.match(/^ {2}- months 2018-03 of weather_readings_winnipeg$/gm)).toHaveLength(1);
    expect(output.match(/^ {2}- months 2018-04 of weather_readings_vancouver$/gm)).toHaveLength(1);
  });

  it("drops the months past PARTITION_RETENTION_MONTHS, and nothing else", async () => {
    const run = await runBootstrapProcess({ ...env, PARTITION_RETENTION_MONTHS: "60" }, ["--maintain"]);
    expect(run.code, run.errorLines.join("\n")).toBe(0);
    const dropped = [...run.stdout.matchAll(/^ {2}- (weather_readings_\w+)$/gm)].map((m) => m[1]).sort();
    // 2018 and 2019 are more than five years back; the months bootstrap made are not.
    expect(dropped).toEqual([
      "weather_readings_vancouver_2018_04",
      "weather_readings_winnipeg_2018_03",
      "weather_readings_winnipeg_2019_05",
    ]);
  });

  it("exits 3 and says to bootstrap first when the database has no readings table", async () => {
    const url = new URL(databaseUrl);
    url.pathname = `${url.pathname}_empty`;
    await createDatabaseIfMissing(url.toString());
    try {
      const run = await runBootstrapProcess({ ...env, DATABASE_URL: url.toString() }, ["--maintain"]);
      expect(run.code).toBe(3);
      expect(run.errorLines).toEqual([
        expect.stringMatching(
          /^bootstrap: nothing to maintain at .*: the database has no table weather_readings; hint: run bootstrap first/,
        ),
      ]);
    } finally {
      await dropDatabaseIfExists(url.toString());
    }
  });
});
