import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureSinkRole,
  type MaintenanceResult,
  maintainPartitions,
  maintenanceUrlOf,
  prepareDatabase,
} from "../src/index.ts";
import {
  type FreshDatabase,
  freshDatabase,
  insertReadings,
  partitionLayout,
  rowsPerTable,
  tablesHolding,
} from "./fresh-database.ts";

// A fixed "now", so the months asserted do not depend on the day the tests run.
const NOW = new Date("2026-11-15T12:00:00Z");
const CITIES = ["winnipeg", "vancouver"];
const WINDOW = { monthsBack: 2, monthsAhead: 1, retentionMonths: null };

function createdBy(result: MaintenanceResult, table: string): readonly string[] {
  return result.cities.find((city) => city.table === table)?.created ?? [];
}

/** Every "Relation Name" an EXPLAIN (FORMAT JSON) plan scans. */
function relationsOf(plan: unknown): string[] {
  if (Array.isArray(plan)) return plan.flatMap(relationsOf);
  if (typeof plan !== "object" || plan === null) return [];
  const node = plan as Record<string, unknown>;
  const own = typeof node["Relation Name"] === "string" ? [node["Relation Name"]] : [];
  return [...own, ...Object.values(node).flatMap(relationsOf)];
}

describe("monthly partitions of a city table", () => {
  let db: FreshDatabase;

  beforeAll(async () => {
    db = await freshDatabase("months");
    await prepareDatabase(db.url, CITIES, { months: WINDOW, now: NOW });
  });
  afterAll(() => db?.close());

  it("gives each city table a DEFAULT partition and the months around now", async () => {
    const layout = await partitionLayout(db.sql);
    expect(layout.filter((line) => line.startsWith("weather_readings_winnipeg"))).toEqual([
      "weather_readings_winnipeg FOR VALUES IN ('winnipeg')",
      expect.stringMatching(
        /^weather_readings_winnipeg_2026_09 FOR VALUES FROM \('2026-09-01 .*'\) TO \('2026-10-01 /,
      ),
      expect.stringMatching(/^weather_readings_winnipeg_2026_10 FOR VALUES FROM/),
      expect.stringMatching(/^weather_readings_winnipeg_2026_11 FOR VALUES FROM/),
      expect.stringMatching(/^weather_readings_winnipeg_2026_12 FOR VALUES FROM/),
      "weather_readings_winnipeg_default DEFAULT",
    ]);
    const [strategy] = await db.sql<{ s: string }[]>`
      select partstrat as s from pg_partitioned_table where partrelid = 'weather_readings_winnipeg'::regclass`;
    expect(strategy?.s).toBe("r");
  });

  it("refuses, before creating anything, a city whose partitions' names would not fit", async () => {
    const before = await partitionLayout(db.sql);
    const long = `c${"x".repeat(38)}`; // 39 characters: weather_readings_<city>_default is 64 bytes
    await expect(prepareDatabase(db.url, ["toronto", long], { months: WINDOW, now: NOW })).rejects.toThrow(
      /city slugs may have at most 38 characters/,
    );
    expect(await partitionLayout(db.sql)).toEqual(before);
  });

  it("creates no month twice when bootstrap runs again", async () => {
    const before = await partitionLayout(db.sql);
    const again = await prepareDatabase(db.url, CITIES, { months: WINDOW, now: NOW });
    expect(again.months.flatMap((city) => city.created)).toEqual([]);
    expect(again.months.find((city) => city.table === "weather_readings_winnipeg")?.existing).toEqual([
      "2026-09",
      "2026-10",
      "2026-11",
      "2026-12",
    ]);
    expect(await partitionLayout(db.sql)).toEqual(before);
  });

  it("plans a one-day query on a city table over one month's partition only", async () => {
    await insertReadings(db.sql, [
      { city: "winnipeg", observedAt: "2026-10-05T06:00:00Z" },
      { city: "winnipeg", observedAt: "2026-11-05T06:00:00Z" },
    ]);
    const day = "observed_at >= '2026-10-05T00:00:00Z' and observed_at < '2026-10-06T00:00:00Z'";
    const [byCity] = await db.sql.unsafe(
      `explain (format json) select * from weather_readings_winnipeg where ${day}`,
    );
    expect(relationsOf(byCity)).toEqual(["weather_readings_winnipeg_2026_10"]);
    const [byParent] = await db.sql.unsafe(
      `explain (format json) select avg(temperature_c) from weather_readings where city = 'winnipeg' and ${day}`,
    );
    expect(relationsOf(byParent)).toEqual(["weather_readings_winnipeg_2026_10"]);
  });

  it("stores a reading of a month without partition in its city's default, and the maintenance moves it out", async () => {
    const ids = await insertReadings(db.sql, [
      { city: "winnipeg", observedAt: "2026-03-01T00:00:00Z", temperatureC: -0.5 },
      { city: "winnipeg", observedAt: "2026-03-31T23:59:59.999Z" },
      { city: "vancouver", observedAt: "2024-07-04T12:00:00Z" },
    ]);
    expect(await tablesHolding(db.sql, ids)).toEqual({
      [ids[0] as string]: "weather_readings_winnipeg_default",
      [ids[1] as string]: "weather_readings_winnipeg_default",
      [ids[2] as string]: "weather_readings_vancouver_default",
    });
    const rowsOf = () =>
      db.sql`select to_jsonb(r) - 'tableoid' as row from weather_readings r where reading_id = any(${ids}::uuid[]) order by reading_id`;
    const before = await rowsOf();

    const result = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
    expect(createdBy(result, "weather_readings_winnipeg")).toEqual(["2026-03"]);
    expect(createdBy(result, "weather_readings_vancouver")).toEqual(["2024-07"]);
    expect(result.cities.reduce((sum, city) => sum + city.movedRows, 0)).toBe(3);

    expect(await tablesHolding(db.sql, ids)).toEqual({
      [ids[0] as string]: "weather_readings_winnipeg_2026_03",
      [ids[1] as string]: "weather_readings_winnipeg_2026_03",
      [ids[2] as string]: "weather_readings_vancouver_2024_07",
    });
    // Moved whole: every column as it was, ingested_at included.
    expect(await rowsOf()).toEqual(before);
    const defaults = await rowsPerTable(db.sql);
    expect(defaults.weather_readings_winnipeg_default).toBeUndefined();
    expect(defaults.weather_readings_vancouver_default).toBeUndefined();
  });

  it("changes nothing on a second maintenance run", async () => {
    const layout = await partitionLayout(db.sql);
    const rows = await rowsPerTable(db.sql);
    const second = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
    for (const city of second.cities) {
      expect(city).toMatchObject({ created: [], movedRows: 0, dropped: [], oldRowsInDefault: 0 });
    }
    expect(await partitionLayout(db.sql)).toEqual(layout);
    expect(await rowsPerTable(db.sql)).toEqual(rows);
  });

  it("stores a reading twice sent once, in its month as in the default", async () => {
    const id = randomUUID();
    for (const observedAt of ["2026-10-07T00:00:00Z", "2023-01-07T00:00:00Z"]) {
      const readingId = observedAt.startsWith("2026") ? id : randomUUID();
      await insertReadings(db.sql, [{ city: "winnipeg", observedAt, readingId }]);
      await insertReadings(db.sql, [{ city: "winnipeg", observedAt, readingId }]);
      const [row] =
        await db.sql`select count(*)::int as n from weather_readings where reading_id = ${readingId}`;
      expect(row?.n).toBe(1);
    }
  });
});

describe("retention", () => {
  let db: FreshDatabase;
  const months = Array.from({ length: 20 }, (_, i) => {
    const m = new Date(Date.UTC(2025, i, 10));
    return m.toISOString();
  }); // 2025-01 .. 2026-08

  beforeAll(async () => {
    db = await freshDatabase("retention");
    await prepareDatabase(db.url, CITIES, { months: WINDOW, now: NOW });
    await insertReadings(
      db.sql,
      months.flatMap((observedAt) => CITIES.map((city) => ({ city, observedAt }))),
    );
    await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
  });
  afterAll(() => db?.close());

  it("drops exactly the month partitions older than the retention, and nothing else", async () => {
    const before = await rowsPerTable(db.sql);
    const layout = await partitionLayout(db.sql);
    const result = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: 12 });

    expect(result.oldestKept).toBe("2025-11");
    const droppedMonths = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"];
    for (const city of CITIES) {
      const table = `weather_readings_${city}`;
      expect(result.cities.find((c) => c.table === table)).toEqual({
        table,
        created: [],
        movedRows: 0,
        dropped: droppedMonths.map((mm) => `${table}_2025_${mm}`),
        oldRowsInDefault: 0,
      });
    }
    const gone = new Set(result.cities.flatMap((city) => city.dropped));
    expect(await partitionLayout(db.sql)).toEqual(
      layout.filter((line) => !gone.has(line.split(" ")[0] ?? "")),
    );
    const kept = Object.fromEntries(Object.entries(before).filter(([table]) => !gone.has(table)));
    expect(await rowsPerTable(db.sql)).toEqual(kept);
    expect(Object.keys(kept)).toContain("weather_readings_winnipeg_2025_11");
  });

  it("keeps a reading older than the retention in the default, and drops nothing more", async () => {
    const [id] = await insertReadings(db.sql, [{ city: "winnipeg", observedAt: "2025-02-03T00:00:00Z" }]);
    const layout = await partitionLayout(db.sql);
    const result = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: 12 });
    const winnipeg = result.cities.find((city) => city.table === "weather_readings_winnipeg");
    expect(winnipeg).toMatchObject({ created: [], movedRows: 0, dropped: [], oldRowsInDefault: 1 });
    expect(await tablesHolding(db.sql, [id as string])).toEqual({
      [id as string]: "weather_readings_winnipeg_default",
    });
    expect(await partitionLayout(db.sql)).toEqual(layout);
  });
});

describe("maintenance under concurrency", () => {
  let db: FreshDatabase;

  beforeAll(async () => {
    db = await freshDatabase("concurrent");
    await prepareDatabase(db.url, CITIES, { months: WINDOW, now: NOW });
  });
  afterAll(() => db?.close());

  it("lets several runs at once all succeed, each month created and each row moved once", async () => {
    const observed = ["2025-03-03T00:00:00Z", "2025-04-03T00:00:00Z", "2025-05-03T00:00:00Z"];
    const ids = await insertReadings(
      db.sql,
      observed.flatMap((observedAt) => CITIES.map((city) => ({ city, observedAt }))),
    );
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() => maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null })),
    );
    const created = runs.flatMap((run) =>
      run.cities.flatMap((city) => city.created.map((m) => `${city.table} ${m}`)),
    );
    expect(created.sort()).toEqual(
      CITIES.flatMap((city) =>
        ["2025-03", "2025-04", "2025-05"].map((m) => `weather_readings_${city} ${m}`),
      ).sort(),
    );
    expect(runs.reduce((sum, run) => sum + run.cities.reduce((s, c) => s + c.movedRows, 0), 0)).toBe(
      ids.length,
    );
    const tables = Object.values(await tablesHolding(db.sql, ids));
    expect(tables).toHaveLength(ids.length);
    expect(tables.some((table) => table.endsWith("_default"))).toBe(false);
  });

  it("outlasts a reader that holds a city table longer than one lock attempt", async () => {
    await insertReadings(db.sql, [{ city: "winnipeg", observedAt: "2023-06-06T06:06:06Z" }]);
    const reader = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reading = reader.begin(async (tx) => {
        await tx`lock table weather_readings_winnipeg in access share mode`;
        await held;
      });
      // Released after one lock attempt (5 s) has certainly given up; the maintenance tries again.
      setTimeout(release, 7_000);
      const result = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
      await reading;
      expect(createdBy(result, "weather_readings_winnipeg")).toEqual(["2023-06"]);
    } finally {
      await reader.end({ timeout: 5 });
    }
  });

  it("loses no row and stores none twice while a writer inserts through the parent", async () => {
    const stored = new Set<string>();
    let writing = true;
    const writer = (async () => {
      let round = 0;
      // Until the maintenance runs are done, and at least a few rounds, whatever the timing.
      while (writing || round < 5) {
        const rows = Array.from({ length: 40 }, (_, i) => ({
          city: CITIES[i % 2] as string,
          // Months with and without partitions: 2024-01 .. 2026-12.
          observedAt: new Date(Date.UTC(2024, (round * 7 + i) % 36, 1 + (i % 27), i % 24)).toISOString(),
        }));
        const ids = await insertReadings(db.sql, rows);
        // The same readings again, as a producer's re-send would: stored once.
        const again = ids
          .slice(0, 10)
          .map((readingId, i) => ({ ...(rows[i] as (typeof rows)[number]), readingId }));
        await insertReadings(db.sql, again);
        for (const id of ids) stored.add(id);
        round += 1;
      }
    })();
    try {
      for (let run = 0; run < 6; run++) {
        await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
      }
    } finally {
      writing = false;
      await writer;
    }
    await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });

    const [counts] = await db.sql<{ rows: number; distinct: number; inDefault: number }[]>`
      select count(*)::int as rows, count(distinct reading_id)::int as distinct,
        count(*) filter (where tableoid::regclass::text like '%\\_default')::int as "inDefault"
      from weather_readings where reading_id = any(${[...stored]}::uuid[])`;
    expect(counts).toEqual({ rows: stored.size, distinct: stored.size, inDefault: 0 });
  });
});

describe("the sink's role and the month partitions", () => {
  let db: FreshDatabase;
  const role = `weather_sink_test_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    db = await freshDatabase("role");
    await prepareDatabase(db.url, CITIES, { months: WINDOW, now: NOW });
    await ensureSinkRole(db.url, { role });
  });
  afterAll(async () => {
    await db?.close();
    const admin = postgres(maintenanceUrlOf(db.url), { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop role if exists "${role}"`).finally(() => admin.end());
  });

  it("inserts through the parent into a month and into the default, with no grant on either", async () => {
    const url = new URL(db.url);
    url.username = role;
    const sink = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const ids = await insertReadings(sink, [
        { city: "winnipeg", observedAt: "2026-10-02T00:00:00Z" },
        { city: "winnipeg", observedAt: "2022-10-02T00:00:00Z" },
      ]);
      expect(Object.values(await tablesHolding(db.sql, ids)).sort()).toEqual([
        "weather_readings_winnipeg_2026_10",
        "weather_readings_winnipeg_default",
      ]);
      const codeOf = (query: Promise<unknown>) =>
        query.then(
          () => "allowed",
          (error: { code?: string }) => error.code,
        );
      expect(await codeOf(sink`select count(*) from weather_readings_winnipeg`)).toBe("allowed");
      expect(await codeOf(sink`select count(*) from weather_readings_winnipeg_2026_10`)).toBe("42501");
      expect(await codeOf(sink`delete from weather_readings_winnipeg_2026_10`)).toBe("42501");
      expect(await codeOf(sink`delete from weather_readings_winnipeg_default`)).toBe("42501");
      expect(await codeOf(sink`create table weather_readings_winnipeg_2030_01 (x int)`)).toBe("42501");
    } finally {
      await sink.end({ timeout: 5 });
    }
  });
});
