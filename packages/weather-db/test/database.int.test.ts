import { randomUUID } from "node:crypto";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { drizzle } from "drizzle-orm/postgres-js";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectOnce,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
  prepareDatabase,
  weatherReadings,
} from "../src/index.ts";

// Every run gets databases of its own, so parallel test runs on the shared server never meet.
const server = configurationOf({ groups: { postgres: POSTGRES_CONNECTION } }, process.env).postgres.url;
const runId = randomUUID().slice(0, 8);
const created: string[] = [];

function freshDatabaseUrl(label: string): string {
  const url = new URL(server);
  url.pathname = `/weather_test_db_${label}_${runId}`;
  created.push(url.toString());
  return url.toString();
}

afterAll(async () => {
  for (const url of created) await dropDatabaseIfExists(url);
});

function reading(city: string, readingId = randomUUID()) {
  return {
    readingId,
    stationId: city === "winnipeg" ? "CYWG" : "CYVR",
    city,
    observedAt: new Date("2025-01-15T12:00:00.123Z"),
    temperatureC: -21.5,
    windSpeedKmh: 18,
    humidityPct: 71,
    sourceTopic: "weather.readings",
    sourcePartition: 0,
    sourceOffset: 42n,
  };
}

describe("a fresh database, prepared", () => {
  const url = freshDatabaseUrl("fresh");
  let sql: Sql;

  beforeAll(async () => {
    expect(await createDatabaseIfMissing(url)).toMatchObject({ created: true });
    sql = connectOnce(url);
  });
  afterAll(async () => {
    await sql?.end();
  });

  it("applies the committed migrations and creates one partition per city", async () => {
    const result = await prepareDatabase(url, ["winnipeg", "vancouver"]);
    expect(result.migrations).toEqual({ applied: 3, total: 3 });
    expect([...result.partitions.created].sort()).toEqual([
      "weather_readings_vancouver",
      "weather_readings_winnipeg",
    ]);

    const [parent] = await sql<{ strategy: string }[]>`
      select partstrat as strategy from pg_partitioned_table where partrelid = 'weather_readings'::regclass`;
    expect(parent?.strategy).toBe("l");
    const bounds = await sql<{ name: string; bound: string }[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'weather_readings'::regclass order by 1`;
    expect(bounds).toEqual([
      { name: "weather_readings_vancouver", bound: "FOR VALUES IN ('vancouver')" },
      { name: "weather_readings_winnipeg", bound: "FOR VALUES IN ('winnipeg')" },
    ]);
    const [offsets] = await sql`select to_regclass('consumer_offsets') as t`;
    expect(offsets?.t).toBe("consumer_offsets");
  });

  it("indexes latest-per-station and time ranges on every partition", async () => {
    const indexes = await sql<{ definition: string }[]>`
      select indexdef as definition from pg_indexes where tablename = 'weather_readings_winnipeg'`;
    const definitions = indexes.map((i) => i.definition).join("\n");
    expect(definitions).toMatch(/btree \(station_id, observed_at DESC/);
    expect(definitions).toMatch(/brin \(observed_at\)/);
    // The key includes observed_at, the month partitions' key (see the package README).
    expect(definitions).toMatch(/UNIQUE .* \(city, reading_id, observed_at\)/);
  });

  it("changes nothing when run again", async () => {
    const again = await prepareDatabase(url, ["winnipeg", "vancouver"]);
    expect(again.migrations).toEqual({ applied: 0, total: 3 });
    expect(again.partitions.created).toEqual([]);
    expect(again.partitions.existing).toHaveLength(2);
    expect(await createDatabaseIfMissing(url)).toMatchObject({ created: false });
  });

  it("adds the partition of a new city and keeps the others", async () => {
    const result = await prepareDatabase(url, ["winnipeg", "vancouver", "toronto"]);
    expect(result.partitions.created).toEqual(["weather_readings_toronto"]);
  });

  it("stores a reading once, however often it arrives", async () => {
    const db = drizzle(sql);
    const first = reading("winnipeg");
    const inserted = await db.insert(weatherReadings).values(first).onConflictDoNothing().returning();
    const duplicate = await db.insert(weatherReadings).values(first).onConflictDoNothing().returning();
    expect(inserted).toHaveLength(1);
    expect(duplicate).toHaveLength(0);
    const rows = await sql`select city from weather_readings where reading_id = ${first.readingId}`;
    expect(rows).toEqual([{ city: "winnipeg" }]);
    // Rows land in their city's table, and ingested_at is filled in by the database.
    // (Compared in SQL: drizzle() switches the client's timestamp parsing to strings.)
    const [stored] = await sql`
      select ingested_at > now() - interval '1 minute' as fresh,
        observed_at = '2025-01-15T12:00:00.123Z'::timestamptz as exact
      from weather_readings_winnipeg`;
    expect(stored).toEqual({ fresh: true, exact: true });
  });

  it("refuses a reading of a city that has no table, instead of hiding it", async () => {
    // 23514: "no partition of relation weather_readings found for row".
    await expect(drizzle(sql).insert(weatherReadings).values(reading("atlantis"))).rejects.toMatchObject({
      cause: { code: "23514" },
    });
  });
});

describe("concurrency", () => {
  it("creates a database once when several callers race", async () => {
    const url = freshDatabaseUrl("race");
    const results = await Promise.all([1, 2, 3].map(() => createDatabaseIfMissing(url)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it("lets two preparations run at once: both succeed, one set of objects", async () => {
    const url = freshDatabaseUrl("twice");
    await createDatabaseIfMissing(url);
    const [a, b] = await Promise.all([
      prepareDatabase(url, ["winnipeg", "vancouver"]),
      prepareDatabase(url, ["winnipeg", "vancouver"]),
    ]);
    expect((a?.migrations.applied ?? 0) + (b?.migrations.applied ?? 0)).toBe(3);
    expect((a?.partitions.created.length ?? 0) + (b?.partitions.created.length ?? 0)).toBe(2);
    const sql = connectOnce(url);
    try {
      const [row] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(row?.n).toBe(3);
    } finally {
      await sql.end();
    }
  });
});
