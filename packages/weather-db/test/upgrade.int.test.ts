import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as applyMigrations } from "drizzle-orm/postgres-js/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectOnce,
  MIGRATIONS_FOLDER,
  maintainPartitions,
  prepareDatabase,
  storedReadingsChecksums,
} from "../src/index.ts";
import { type FreshDatabase, freshDatabase, insertReadings, rowsPerTable } from "./fresh-database.ts";

const NOW = new Date("2026-11-15T12:00:00Z");
const WINDOW = { monthsBack: 2, monthsAhead: 1, retentionMonths: null };

/** A migrations folder holding only the first migration: the schema before monthly partitions. */
function firstMigrationOnly(): string {
  const folder = mkdtempSync(join(tmpdir(), "weather-db-0000-"));
  mkdirSync(join(folder, "meta"));
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"));
  const first = journal.entries[0];
  writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ ...journal, entries: [first] }));
  copyFileSync(join(MIGRATIONS_FOLDER, `${first.tag}.sql`), join(folder, `${first.tag}.sql`));
  return folder;
}

describe("a database made before monthly partitions, upgraded", () => {
  let db: FreshDatabase;
  let oldTableOids: Record<string, number>;
  let rowsBefore: readonly unknown[];
  let ids: string[];

  beforeAll(async () => {
    db = await freshDatabase("upgrade");
    // The old layout: migration 0000 and plain city partitions, as bootstrap made them until now.
    // A client of its own: drizzle() switches its client's timestamps to strings.
    const migrator = connectOnce(db.url);
    try {
      await applyMigrations(drizzle(migrator), { migrationsFolder: firstMigrationOnly() });
    } finally {
      await migrator.end();
    }
    for (const city of ["winnipeg", "vancouver"]) {
      await db.sql.unsafe(
        `create table weather_readings_${city} partition of weather_readings for values in ('${city}')`,
      );
    }
    ids = await insertReadings(db.sql, [
      { city: "winnipeg", observedAt: "2026-10-01T00:00:00Z" },
      { city: "winnipeg", observedAt: "2026-11-14T23:00:00Z" },
      { city: "winnipeg", observedAt: "2025-06-30T12:00:00Z" },
      { city: "vancouver", observedAt: "2026-09-30T23:59:59.999Z" },
      { city: "vancouver", observedAt: "2024-01-01T00:00:00Z" },
    ]);
    const oids = await db.sql<{ name: string; oid: number }[]>`
      select relname as name, oid::int as oid from pg_class where relname like 'weather_readings\\_%'`;
    oldTableOids = Object.fromEntries(oids.map((row) => [row.name, row.oid]));
    rowsBefore = await db.sql`select to_jsonb(r) as row from weather_readings r order by reading_id`;
  });
  afterAll(() => db?.close());

  it("turns each city table into the DEFAULT partition of its partitioned successor, without copying", async () => {
    const checksumBefore = await storedReadingsChecksums(db.sql);
    const result = await prepareDatabase(db.url, ["winnipeg", "vancouver"], { months: WINDOW, now: NOW });
    expect(result.migrations).toEqual({ applied: 2, total: 3 });
    expect([...result.partitions.existing].sort()).toEqual([
      "weather_readings_vancouver",
      "weather_readings_winnipeg",
    ]);

    const defaults = await db.sql<{ city: string; name: string; oid: number }[]>`
      select c.relname as city, d.relname as name, d.oid::int as oid
      from pg_partitioned_table p join pg_class c on c.oid = p.partrelid join pg_class d on d.oid = p.partdefid
      where c.relname in ('weather_readings_winnipeg', 'weather_readings_vancouver') order by 1`;
    expect(defaults).toEqual([
      {
        city: "weather_readings_vancouver",
        name: "weather_readings_vancouver_default",
        oid: oldTableOids.weather_readings_vancouver,
      },
      {
        city: "weather_readings_winnipeg",
        name: "weather_readings_winnipeg_default",
        oid: oldTableOids.weather_readings_winnipeg,
      },
    ]);
    // Every row kept as it was (ingested_at included), in the months bootstrap created where it could.
    expect(await db.sql`select to_jsonb(r) as row from weather_readings r order by reading_id`).toEqual(
      rowsBefore,
    );
    expect(await storedReadingsChecksums(db.sql)).toEqual(checksumBefore);
    expect(await rowsPerTable(db.sql)).toEqual({
      weather_readings_winnipeg_2026_10: 1,
      weather_readings_winnipeg_2026_11: 1,
      weather_readings_winnipeg_default: 1,
      weather_readings_vancouver_2026_09: 1,
      weather_readings_vancouver_default: 1,
    });
  });

  it("keeps one key on every partition, the new one, and still stores a reading once", async () => {
    const keys = await db.sql<{ table: string; key: string }[]>`
      select conrelid::regclass::text as table, pg_get_constraintdef(oid) as key from pg_constraint
      where contype in ('p', 'u') and conrelid::regclass::text like 'weather_readings%' order by 1, 2`;
    expect(keys.length).toBeGreaterThan(5);
    for (const { key } of keys) expect(key).toBe("PRIMARY KEY (city, reading_id, observed_at)");
    const [stored] = await db.sql<{ reading_id: string; observed_at: Date }[]>`
      select reading_id, observed_at from weather_readings where reading_id = ${ids[2] as string}`;
    await insertReadings(db.sql, [
      { city: "winnipeg", observedAt: stored?.observed_at.toISOString() ?? "", readingId: ids[2] as string },
    ]);
    const [count] = await db.sql`select count(*)::int as n from weather_readings`;
    expect(count?.n).toBe(5);
  });

  it("leaves the older rows to the maintenance, which moves them into months of their own", async () => {
    const result = await maintainPartitions(db.url, { now: NOW, monthsAhead: 1, retentionMonths: null });
    expect(result.cities.map((city) => [city.table, city.created, city.movedRows])).toEqual([
      ["weather_readings_vancouver", ["2024-01"], 1],
      ["weather_readings_winnipeg", ["2025-06"], 1],
    ]);
    expect(Object.keys(await rowsPerTable(db.sql)).filter((table) => table.endsWith("_default"))).toEqual([]);
  });
});
