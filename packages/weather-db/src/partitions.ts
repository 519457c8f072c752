import { cityTableName } from "@weather/schema";
import { getTableName } from "drizzle-orm";
import type { Sql } from "postgres";
import { weatherReadings } from "./tables.ts";

export interface PartitionsResult {
  /** Partition tables this call created. */
  readonly created: readonly string[];
  /** Partition tables that were already there. */
  readonly existing: readonly string[];
}

const DUPLICATE_TABLE = "42P07";
/** PostgreSQL silently truncates longer identifiers, which could make two cities share a name. */
const MAX_IDENTIFIER_BYTES = 63;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

async function partitionsOf(sql: Sql, parent: string): Promise<Set<string>> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${quoteIdentifier(parent)})`;
  return new Set(rows.map((r) => r.name));
}

/**
 * Makes sure `weather_readings` has a partition `weather_readings_<city>` FOR VALUES IN ('<city>')
 * for every city; idempotent, and safe against a concurrent caller (a partition another session
 * created between our look and our create counts as existing). Run migrations first.
 */
export async function ensureCityPartitions(sql: Sql, cities: Iterable<string>): Promise<PartitionsResult> {
  const parent = getTableName(weatherReadings);
  const existingBefore = await partitionsOf(sql, parent);
  const created: string[] = [];
  const existing: string[] = [];
  for (const city of new Set(cities)) {
    const table = cityTableName(city);
    if (Buffer.byteLength(table) > MAX_IDENTIFIER_BYTES) {
      throw new Error(`partition name ${table} for city "${city}" is longer than PostgreSQL's 63 bytes`);
    }
    if (existingBefore.has(table)) {
      existing.push(table);
      continue;
    }
    try {
      // DDL takes no bind parameters, hence quoting by hand; both quoters escape their delimiter.
      await sql.unsafe(
        `create table ${quoteIdentifier(table)} partition of ${quoteIdentifier(parent)} for values in (${quoteLiteral(city)})`,
      );
      created.push(table);
    } catch (error) {
      if ((error as { code?: unknown }).code !== DUPLICATE_TABLE) throw error;
      if (!(await partitionsOf(sql, parent)).has(table)) {
        throw new Error(`table ${table} exists but is not a partition of ${parent}; rename or drop it`);
      }
      existing.push(table);
    }
  }
  return { created, existing };
}
