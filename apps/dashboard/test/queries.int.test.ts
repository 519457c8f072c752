import { randomUUID } from "node:crypto";
import {
  connectOnce,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
  ensureReaderRole,
  prepareDatabase,
} from "@weather/db";
import { DEFAULT_STATIONS, type Station } from "@weather/schema";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { testSettings } from "@weather/test-support";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CitySeriesCache, DAY_WINDOW, queryCitySeries, WEEK_WINDOW } from "../src/city-series.ts";
import { describeDatabaseError, openReadOnlyPool } from "../src/database.ts";
import { queryLatestReadings } from "../src/latest-readings.ts";
import { readInsertCounters } from "../src/rows-stored.ts";

// A database and a read-only role of this run only, filled with rows whose figures are known.
const runId = randomUUID().slice(0, 8);
const adminUrl = new URL(testSettings.postgres.url);
adminUrl.pathname = `/weather_test_dashboard_${runId}`;
const role = `weather_reader_dash_${runId}`;
const readerUrl = new URL(adminUrl);
readerUrl.username = role;
/** The PostgreSQL connection the dashboard reads for this DATABASE_URL. */
const connectionTo = (url: string) =>
  configurationOf({ groups: { postgres: POSTGRES_CONNECTION } }, { DATABASE_URL: url }).postgres;
const readerConnection = connectionTo(readerUrl.toString());

/** The instant the series are computed at; every row is placed relative to it. */
const NOW = new Date("2026-01-15T12:05:00.000Z");
const at = (iso: string) => new Date(iso);
let offset = 0;

function row(
  stationId: "CYWG" | "CYVR",
  observedAt: Date,
  temperature: number,
  wind = 10,
  humidity = 80,
  pressure: number | null = null,
) {
  return {
    reading_id: randomUUID(),
    station_id: stationId,
    city: stationId === "CYWG" ? "winnipeg" : "vancouver",
    observed_at: observedAt,
    temperature_c: temperature,
    wind_speed_kmh: wind,
    humidity_pct: humidity,
    pressure_hpa: pressure,
    source_topic: "t",
    source_partition: 0,
    source_offset: offset++,
  };
}

const ROWS = [
  // Before the day's window (which starts on the 10-minute boundary after NOW - 24 h), inside the week's.
  row("CYWG", at("2026-01-14T12:09:59.999Z"), -30),
  // The day window's first bucket.
  row("CYWG", at("2026-01-14T12:10:00.000Z"), -20),
  // Two readings in one 10-minute bucket.
  row("CYWG", at("2026-01-15T11:00:00.000Z"), -10, 20, 70),
  row("CYWG", at("2026-01-15T11:05:00.000Z"), -6, 30, 90, 1001.5),
  // Stamped a little ahead of NOW, as a station with a fast clock may: still counted.
  row("CYWG", at("2026-01-15T12:09:00.000Z"), -8, 12, 75, 1003.25),
  // Too far ahead to count.
  row("CYWG", at("2026-01-15T12:10:00.000Z"), 40),
  row("CYVR", at("2026-01-15T12:00:00.000Z"), 4.25, 8.5, 91),
];

describe("the dashboard's PostgreSQL queries, as the read-only role", () => {
  let admin: Sql;
  let reader: Sql;

  beforeAll(async () => {
    await createDatabaseIfMissing(adminUrl.toString());
    await prepareDatabase(adminUrl.toString(), ["winnipeg", "vancouver"]);
    await ensureReaderRole(adminUrl.toString(), { role });
    admin = connectOnce(adminUrl.toString());
    await admin`insert into weather_readings ${admin(ROWS)}`;
    reader = openReadOnlyPool(readerConnection, 10_000);
  });

  afterAll(async () => {
    await reader?.end({ timeout: 5 });
    await admin?.end({ timeout: 5 });
    await dropDatabaseIfExists(adminUrl.toString());
    const server = connectOnce(new URL("/postgres", adminUrl).toString());
    try {
      await server.unsafe(`drop role if exists "${role}"`);
    } finally {
      await server.end();
    }
  });

  it("finds each station's newest reading, pressure when it has one", async () => {
    const unknown: Station = { ...(DEFAULT_STATIONS[0] as Station), id: "CYYZ", city: "toronto" };
    const latest = await queryLatestReadings(reader, [...DEFAULT_STATIONS, unknown]);
    expect(latest.readings).toEqual([
      {
        stationId: "CYVR",
        city: "vancouver",
        observedAt: "2026-01-15T12:00:00.000Z",
        temperatureC: 4.25,
        windSpeedKmh: 8.5,
        humidityPct: 91,
        pressureHpa: null,
      },
      {
        stationId: "CYWG",
        city: "winnipeg",
        observedAt: "2026-01-15T12:10:00.000Z",
        temperatureC: 40,
        windSpeedKmh: 10,
        humidityPct: 80,
        pressureHpa: null,
      },
    ]);
    expect(Math.abs(Date.parse(latest.at) - Date.now())).toBeLessThan(60_000);
  });

  it("aggregates the last 24 hours into 10-minute buckets per city, on the server", async () => {
    const day = await queryCitySeries(reader, DAY_WINDOW, NOW);
    expect(day).toMatchObject({
      window: "day",
      from: "2026-01-14T12:10:00.000Z",
      to: "2026-01-15T12:10:00.000Z",
      at: NOW.toISOString(),
      bucketSeconds: 600,
    });
    const winnipeg = day.cities.find((c) => c.city === "winnipeg");
    expect(winnipeg?.time.map((t) => new Date(t * 1000).toISOString())).toEqual([
      "2026-01-14T12:10:00.000Z",
      "2026-01-15T11:00:00.000Z",
      "2026-01-15T12:00:00.000Z",
    ]);
    expect(winnipeg?.count).toEqual([1, 2, 1]);
    expect(winnipeg?.temperatureAvg).toEqual([-20, -8, -8]);
    expect(winnipeg?.temperatureMin).toEqual([-20, -10, -8]);
    expect(winnipeg?.temperatureMax).toEqual([-20, -6, -8]);
    expect(winnipeg?.windAvg).toEqual([10, 25, 12]);
    expect(winnipeg?.pressureAvg).toEqual([null, 1001.5, 1003.25]);
    expect(day.summaries).toEqual([
      { city: "vancouver", readings: 1, temperatureMin: 4.25, temperatureAvg: 4.25, temperatureMax: 4.25 },
      { city: "winnipeg", readings: 4, temperatureMin: -20, temperatureAvg: -44 / 4, temperatureMax: -6 },
    ]);
  });

  it("aggregates the last 7 days into hours, including what the day's window leaves out", async () => {
    const week = await queryCitySeries(reader, WEEK_WINDOW, NOW);
    expect(week.from).toBe("2026-01-08T13:00:00.000Z");
    const winnipeg = week.cities.find((c) => c.city === "winnipeg");
    expect(winnipeg?.time.map((t) => new Date(t * 1000).toISOString())).toEqual([
      "2026-01-14T12:00:00.000Z",
      "2026-01-15T11:00:00.000Z",
      "2026-01-15T12:00:00.000Z",
    ]);
    expect(winnipeg?.count).toEqual([2, 2, 1]);
    expect(winnipeg?.temperatureMin).toEqual([-30, -10, -8]);
  });

  it("keeps a window up to date by querying only its newest buckets, and recomputes it whole in time", async () => {
    const cache = new CitySeriesCache(DAY_WINDOW, 60_000);
    const first = await cache.refresh(reader, NOW);
    expect(first).toEqual(await queryCitySeries(reader, DAY_WINDOW, NOW));

    const later = new Date(NOW.getTime() + 1_000);
    // A reading in the newest bucket, and one stored late for a bucket hours old.
    await admin`insert into weather_readings ${admin([
      row("CYVR", at("2026-01-15T12:05:00.500Z"), 6.25),
      row("CYVR", at("2026-01-15T06:00:00.000Z"), -1),
    ])}`;
    const refreshed = await cache.refresh(reader, later);
    const vancouver = (result: typeof refreshed) => result.cities.find((c) => c.city === "vancouver");
    expect(vancouver(refreshed)?.count).toEqual([2]);
    expect(vancouver(refreshed)?.temperatureMax).toEqual([6.25]);
    // Winnipeg got nothing new: the same as a whole query at that instant.
    const whole = await queryCitySeries(reader, DAY_WINDOW, later);
    expect(refreshed.cities.find((c) => c.city === "winnipeg")).toEqual(
      whole.cities.find((c) => c.city === "winnipeg"),
    );
    expect(vancouver(whole)?.count).toEqual([1, 2]);

    const recomputed = await cache.refresh(reader, new Date(NOW.getTime() + 60_000));
    expect(vancouver(recomputed)?.count).toEqual([1, 2]);
    expect(recomputed).toEqual(await queryCitySeries(reader, DAY_WINDOW, new Date(NOW.getTime() + 60_000)));
  });

  it("counts the rows PostgreSQL inserted into each city table", async () => {
    // PostgreSQL publishes a backend's counts once it is idle, within about ten seconds.
    const countsReach = async (winnipeg: number, vancouver: number) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const counters = await readInsertCounters(reader);
        const seen = {
          winnipeg: counters.byCity.get("winnipeg"),
          vancouver: counters.byCity.get("vancouver"),
        };
        if ((seen.winnipeg === winnipeg && seen.vancouver === vancouver) || Date.now() > deadline)
          return seen;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    // Six of Winnipeg's and three of Vancouver's, one of them from the test before.
    expect(await countsReach(6, 3)).toEqual({ winnipeg: 6, vancouver: 3 });
    await admin`insert into weather_readings ${admin([row("CYVR", NOW, 1), row("CYVR", NOW, 2), row("CYWG", NOW, 3)])}`;
    expect(await countsReach(7, 5)).toEqual({ winnipeg: 7, vancouver: 5 });
  });

  it("reads in read-only sessions, whatever the role", async () => {
    const [row] = await reader<{ value: string }[]>`select current_setting('transaction_read_only') as value`;
    expect(row?.value).toBe("on");
  });

  it("explains a database bootstrap has not prepared, and a role it has not created", async () => {
    const bare = new URL(adminUrl);
    bare.pathname = "/postgres";
    const unprepared = openReadOnlyPool(connectionTo(bare.toString()), 5_000);
    const nobody = new URL(adminUrl);
    nobody.username = `no_such_role_${runId}`;
    const stranger = openReadOnlyPool(connectionTo(nobody.toString()), 5_000);
    try {
      const missing = await queryLatestReadings(unprepared, DEFAULT_STATIONS).catch((e: unknown) => e);
      expect(describeDatabaseError(missing, bare.toString())).toMatch(
        /^PostgreSQL at .* is not ready for the dashboard \(42P01: .*\); .*run bootstrap first: pnpm --filter bootstrap start$/,
      );
      const refused = await queryLatestReadings(stranger, DEFAULT_STATIONS).catch((e: unknown) => e);
      expect(describeDatabaseError(refused, nobody.toString())).toMatch(
        new RegExp(
          `^PostgreSQL refused role no_such_role_${runId} at .*\\(28000: .*\\); check the user name and password in DATABASE_URL .*; bootstrap creates the dashboard's read-only role`,
        ),
      );
    } finally {
      await unprepared.end({ timeout: 5 });
      await stranger.end({ timeout: 5 });
    }
  });
});
