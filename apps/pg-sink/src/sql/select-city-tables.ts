import type { Sql } from "postgres";
import { READINGS_TABLE } from "./tables.ts";

/**
 * The names of the city tables that exist now: the partitions of weather_readings. Fails with
 * PostgreSQL's 42P01 (undefined table, an outage to wait out) while weather_readings itself does
 * not exist yet, rather than answering "no tables" and dead-lettering every reading.
 */
export async function selectCityTables(sql: Sql): Promise<Set<string>> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${READINGS_TABLE}::regclass`;
  return new Set(rows.map((row) => row.name));
}
