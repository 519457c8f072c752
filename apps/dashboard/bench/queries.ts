/**
 * pnpm --filter dashboard bench: how long the dashboard's PostgreSQL queries take on a year of
 * readings. Fills a database of its own with two stations: one reading a minute for the year, and
 * one a second (the producer's real-time pace) for the last seven days, which is what the 7-day
 * chart has to aggregate. Prints each query's median over BENCH_RUNS runs, as the read-only role,
 * and the plan's scan nodes, then drops the database (BENCH_KEEP=1 keeps it; BENCH_DATABASE names a
 * kept one to measure again without filling it anew).
 */
import { randomUUID } from "node:crypto";
import {
  connectOnce,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
  ensureReaderRole,
  prepareDatabase,
} from "@weather/db";
import { DEFAULT_STATIONS } from "@weather/schema";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { CitySeriesCache, DAY_WINDOW, queryCitySeries, WEEK_WINDOW } from "../src/city-series.ts";
import { openReadOnlyPool } from "../src/database.ts";
import { queryLatestReadings } from "../src/latest-readings.ts";
import { readInsertCounters } from "../src/rows-stored.ts";

const runs = Number(process.env.BENCH_RUNS ?? 5);
/** The PostgreSQL connection the dashboard reads for this DATABASE_URL. */
const connectionTo = (env: Record<string, string | undefined>) =>
  configurationOf({ groups: { postgres: POSTGRES_CONNECTION } }, env).postgres;
const adminUrl = new URL(connectionTo(process.env).url);
const reuse = process.env.BENCH_DATABASE?.trim();
adminUrl.pathname = `/${reuse || `weather_bench_dashboard_${randomUUID().slice(0, 8)}`}`;
const readerUrl = new URL(adminUrl);
readerUrl.username = "weather_reader";

await createDatabaseIfMissing(adminUrl.toString());
const admin = connectOnce(adminUrl.toString());
try {
  await prepareDatabase(adminUrl.toString(), ["winnipeg", "vancouver"]);
  await ensureReaderRole(adminUrl.toString(), { role: "weather_reader" });
  const filling = Date.now();
  const [existing] = await admin<{ any: boolean }[]>`select exists (select from weather_readings) as any`;
  for (const station of existing?.any ? [] : DEFAULT_STATIONS) {
    for (const [from, to, step] of [
      ["365 days", "7 days", "1 minute"],
      ["7 days", "0 seconds", "1 second"],
    ] as const) {
      await admin.unsafe(
        `insert into weather_readings (reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh,
           humidity_pct, pressure_hpa, source_topic, source_partition, source_offset)
         select gen_random_uuid(), $1, $2, t, -10 + random() * 30, random() * 50, 40 + random() * 60,
                990 + random() * 40, 'bench', 0, 0
         from generate_series(now() - $3::interval, now() - $4::interval, $5::interval) as t`,
        [station.id, station.city, from, to, step],
      );
    }
  }
  // What autovacuum does on a live table after enough inserts: statistics, and the BRIN ranges
  // summarized (an unsummarized range matches every query).
  await admin.unsafe("vacuum analyze weather_readings_winnipeg, weather_readings_vancouver");
  const [count] = await admin<{ n: number; size: string }[]>`
    select (select count(*)::int from weather_readings) as n,
           pg_size_pretty(sum(pg_total_relation_size(inhrelid))) as size
    from pg_inherits where inhparent = 'weather_readings'::regclass`;
  console.log(
    `${existing?.any ? "found" : "filled"} ${count?.n} readings (${count?.size}), vacuumed, in ${((Date.now() - filling) / 1000).toFixed(0)} s`,
  );

  const reader = openReadOnlyPool(connectionTo({ DATABASE_URL: readerUrl.toString() }), 60_000);
  const queries: [string, () => Promise<unknown>, string][] = [
    [
      "latest reading per station",
      () => queryLatestReadings(reader, DEFAULT_STATIONS),
      `select s.station_id, r.* from unnest(array['winnipeg','vancouver'], array['CYWG','CYVR']) as s(city, station_id)
       cross join lateral (select * from weather_readings w where w.city = s.city and w.station_id = s.station_id
       order by w.observed_at desc nulls last limit 1) r`,
    ],
    [
      "24 h in 10-minute buckets",
      () => queryCitySeries(reader, DAY_WINDOW, new Date()),
      `select city, date_bin('600 seconds', observed_at, timestamptz '2000-01-01') b, count(*), avg(temperature_c)
       from weather_readings where observed_at >= now() - interval '24 hours' and observed_at < now() + interval '5 minutes'
       group by 1, 2`,
    ],
    [
      "7 d in hourly buckets",
      () => queryCitySeries(reader, WEEK_WINDOW, new Date()),
      `select city, date_bin('3600 seconds', observed_at, timestamptz '2000-01-01') b, count(*), avg(temperature_c)
       from weather_readings where observed_at >= now() - interval '7 days' and observed_at < now() + interval '5 minutes'
       group by 1, 2`,
    ],
    ["rows stored (insert counters)", () => readInsertCounters(reader), "select 1"],
  ];
  for (const window of [DAY_WINDOW, WEEK_WINDOW]) {
    const cache = new CitySeriesCache(window, 600_000);
    await cache.refresh(reader, new Date());
    queries.push([
      `${window.name}: a refresh after the first (newest two buckets only)`,
      () => cache.refresh(reader, new Date()),
      `select city, count(*) from weather_readings where observed_at >= now() - interval '${(2 * window.bucketMs) / 1000} seconds'
       and observed_at < now() + interval '5 minutes' group by 1`,
    ]);
  }
  for (const [name, run, explain] of queries) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const plan = await reader.unsafe(`explain (analyze, buffers) ${explain}`);
    const scans = plan
      .map((row) => String(row["QUERY PLAN"]))
      .filter((line) => /Scan|Execution Time/.test(line))
      .map((line) => line.trim().replace(/\s+\(cost=.*?\)/, ""));
    console.log(`${name}: median ${times[Math.floor(times.length / 2)]?.toFixed(1)} ms over ${runs} runs`);
    for (const line of scans.slice(0, 6)) console.log(`    ${line}`);
  }
  await reader.end({ timeout: 5 });
} finally {
  await admin.end({ timeout: 5 });
  if (process.env.BENCH_KEEP !== "1" && !reuse) await dropDatabaseIfExists(adminUrl.toString());
  else console.log(`kept ${adminUrl.pathname.slice(1)}`);
}
