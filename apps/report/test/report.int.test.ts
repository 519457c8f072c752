import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDatabaseIfMissing, dropDatabaseIfExists, prepareDatabase } from "@weather/db";
import { readConnectionSettings } from "@weather/service-kit";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeCities } from "../src/city-summary.ts";
import { renderSummary } from "../src/render.ts";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

// A database of its own, filled with known rows, so the figures can be checked by hand.
const url = new URL(readConnectionSettings(process.env).databaseUrl);
url.pathname = `/weather_test_report_${randomUUID().slice(0, 8)}`;
const databaseUrl = url.toString();

const row = (
  city: string,
  station: string,
  minute: number,
  temperature: number,
  wind: number,
  humidity: number,
) => ({
  reading_id: randomUUID(),
  station_id: station,
  city,
  observed_at: new Date(Date.UTC(2026, 0, 15, 12, minute)),
  temperature_c: temperature,
  wind_speed_kmh: wind,
  humidity_pct: humidity,
  source_topic: "t",
  source_partition: 0,
  source_offset: minute,
});

describe("report", () => {
  let sql: postgres.Sql;

  beforeAll(async () => {
    await createDatabaseIfMissing(databaseUrl);
    await prepareDatabase(databaseUrl, ["winnipeg", "vancouver"]);
    sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    await sql`insert into weather_readings ${sql([
      row("winnipeg", "CYWG", 0, -20, 10, 70),
      row("winnipeg", "CYWG", 10, -10, 30, 80),
      row("winnipeg", "CYWG", 20, -15, 20, 75),
      row("vancouver", "CYVR", 5, 4, 8, 90),
    ])}`;
  });

  afterAll(async () => {
    await sql?.end();
    await dropDatabaseIfExists(databaseUrl);
  });

  it("summarizes each city's own table: rows, span and min/avg/max", async () => {
    const cities = await summarizeCities(sql);
    expect(cities.map((city) => [city.city, city.table, city.rows])).toEqual([
      ["vancouver", "weather_readings_vancouver", 1],
      ["winnipeg", "weather_readings_winnipeg", 3],
    ]);
    const winnipeg = cities[1];
    expect(winnipeg?.temperatureC).toEqual({ min: -20, avg: -15, max: -10 });
    expect(winnipeg?.windSpeedKmh).toEqual({ min: 10, avg: 20, max: 30 });
    expect(winnipeg?.firstObservedAt.toISOString()).toBe("2026-01-15T12:00:00.000Z");
    expect(winnipeg?.lastObservedAt.toISOString()).toBe("2026-01-15T12:20:00.000Z");
    expect(winnipeg?.temperatureTrend).toEqual([-20, -10, -15]);
    expect(renderSummary(cities)).toContain("4 rows in 2 city tables");
  });

  it("runs as a command and prints the tables", async () => {
    const { stdout } = await run(process.execPath, ["--conditions=@weather/source", main], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    expect(stdout).toContain("winnipeg  (table weather_readings_winnipeg: 3 rows from 1 station)");
    expect(stdout).toMatch(/temperature {2}▁█▅/);
  });

  it("says to run bootstrap first when the tables are missing", async () => {
    const bare = new URL(databaseUrl);
    bare.pathname = "/postgres";
    const failure = await run(process.execPath, ["--conditions=@weather/source", main], {
      env: { ...process.env, DATABASE_URL: bare.toString() },
    }).catch((error: { code: number; stderr: string }) => error);
    // DEPENDENCY_UNAVAILABLE: the database is not ready, which no bug and no setting explains.
    expect(failure).toMatchObject({ code: 3 });
    expect((failure as { stderr: string }).stderr).toMatch(/run bootstrap first/);
  });
});
