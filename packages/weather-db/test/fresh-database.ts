import { randomUUID } from "node:crypto";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import postgres, { type Sql } from "postgres";
import { createDatabaseIfMissing, dropDatabaseIfExists } from "../src/index.ts";

const server = configurationOf({ groups: { postgres: POSTGRES_CONNECTION } }, process.env).postgres.url;

/** A database of the test's own on the shared server: created empty, dropped by close(). */
export interface FreshDatabase {
  readonly url: string;
  /** A small pool for the test's own queries. */
  readonly sql: Sql;
  close(): Promise<void>;
}

export async function freshDatabase(label: string): Promise<FreshDatabase> {
  const url = new URL(server);
  url.pathname = `/weather_test_db_${label}_${randomUUID().slice(0, 8)}`;
  await createDatabaseIfMissing(url.toString());
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  return {
    url: url.toString(),
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await dropDatabaseIfExists(url.toString());
    },
  };
}

export interface RowSpec {
  readonly city: string;
  readonly observedAt: string;
  readonly readingId?: string;
  readonly temperatureC?: number;
}

/** Inserts readings through the partitioned parent, as the sink does; returns their ids. */
export async function insertReadings(sql: Sql, rows: readonly RowSpec[]): Promise<string[]> {
  const values = rows.map((row, i) => ({
    reading_id: row.readingId ?? randomUUID(),
    station_id: row.city === "winnipeg" ? "CYWG" : "CYVR",
    city: row.city,
    observed_at: new Date(row.observedAt),
    temperature_c: row.temperatureC ?? -5.5,
    wind_speed_kmh: 12,
    humidity_pct: 80,
    source_topic: "weather.readings",
    source_partition: 0,
    source_offset: i,
  }));
  if (values.length > 0) await sql`insert into weather_readings ${sql(values)} on conflict do nothing`;
  return values.map((value) => value.reading_id);
}

/** Which table each reading is stored in, by reading id. */
export async function tablesHolding(
  sql: Sql,
  readingIds: readonly string[],
): Promise<Record<string, string>> {
  const rows = await sql<{ id: string; table: string }[]>`
    select reading_id::text as id, tableoid::regclass::text as table
    from weather_readings where reading_id = any(${readingIds}::uuid[])`;
  return Object.fromEntries(rows.map((row) => [row.id, row.table]));
}

/** Every table under weather_readings with its bounds: the partition layout, to compare runs. */
export async function partitionLayout(sql: Sql): Promise<string[]> {
  const rows = await sql<{ line: string }[]>`
    select t.relid::regclass::text || ' ' || coalesce(pg_get_expr(c.relpartbound, c.oid), '(root)') as line
    from pg_partition_tree('weather_readings') t join pg_class c on c.oid = t.relid
    order by 1`;
  return rows.map((row) => row.line);
}

/** Rows per leaf partition. */
export async function rowsPerTable(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ table: string; n: number }[]>`
    select tableoid::regclass::text as table, count(*)::int as n from weather_readings group by 1`;
  return Object.fromEntries(rows.map((row) => [row.table, row.n]));
}
