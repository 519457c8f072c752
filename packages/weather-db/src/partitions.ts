import { cityTableName } from "@weather/schema";
import { getTableName } from "drizzle-orm";
import type { Sql } from "postgres";
import { quoteIdentifier, quoteLiteral } from "./quote.ts";
import { weatherReadings } from "./tables.ts";

export interface PartitionsResult {
  /** City tables this call created. */
  readonly created: readonly string[];
  /** City tables that were already there. */
  readonly existing: readonly string[];
}

const DUPLICATE_TABLE = "42P07";
/** PostgreSQL silently truncates longer identifiers, which could make two tables share a name. */
const MAX_IDENTIFIER_BYTES = 63;
/** The longest suffix a city table's partitions add to its name: "_default", "_2026_01". */
const LONGEST_PARTITION_SUFFIX = "_default";

/** The DEFAULT partition of a city table: readings of months that have no partition of their own. */
export function defaultPartitionName(cityTable: string): string {
  return `${cityTable}${LONGEST_PARTITION_SUFFIX}`;
}

interface Child {
  readonly name: string;
  /** "r": a plain table (before migration 0001), "p": partitioned by month. */
  readonly kind: string;
}

async function childrenOf(sql: Sql, parent: string): Promise<Map<string, Child>> {
  const rows = await sql<{ name: string; kind: string }[]>`
    select c.relname as name, c.relkind::text as kind
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${quoteIdentifier(parent)})`;
  return new Map(rows.map((r) => [r.name, { name: r.name, kind: r.kind }]));
}

/** Refuses, before anything is created, a city whose table or partitions would not fit a name. */
function tableNameOf(city: string): string {
  const table = cityTableName(city);
  const longest = defaultPartitionName(table);
  if (Buffer.byteLength(longest) > MAX_IDENTIFIER_BYTES) {
    throw new Error(
      `city "${city}" is too long a name: its partitions (e.g. ${longest}) would pass PostgreSQL's ` +
        `${MAX_IDENTIFIER_BYTES}-byte limit; city slugs may have at most ${MAX_IDENTIFIER_BYTES - "weather_readings_".length - LONGEST_PARTITION_SUFFIX.length} characters`,
    );
  }
  return table;
}

/**
 * Creates the city table weather_readings_<city>, FOR VALUES IN ('<city>') of weather_readings and
 * itself PARTITION BY RANGE (observed_at), with its DEFAULT partition, in one transaction: a city
 * table never exists without the default that keeps a reading of a month without partition.
 */
async function createCityTable(sql: Sql, parent: string, city: string, table: string): Promise<void> {
  await sql.begin(async (tx) => {
    // DDL takes no bind parameters, hence quoting by hand; both quoters escape their delimiter.
    await tx.unsafe(
      `create table ${quoteIdentifier(table)} partition of ${quoteIdentifier(parent)} ` +
        `for values in (${quoteLiteral(city)}) partition by range (observed_at)`,
    );
    await tx.unsafe(
      `create table ${quoteIdentifier(defaultPartitionName(table))} partition of ${quoteIdentifier(table)} default`,
    );
  });
}

/**
 * Makes sure `weather_readings` has a city table `weather_readings_<city>` for every city, each
 * partitioned by month with a DEFAULT partition (the months themselves: ensureMonths); idempotent,
 * and safe against a concurrent caller (a table another session created between our look and our
 * create counts as existing). Run migrations first.
 */
export async function ensureCityPartitions(sql: Sql, cities: Iterable<string>): Promise<PartitionsResult> {
  const parent = getTableName(weatherReadings);
  const tables = [...new Set(cities)].map((city) => ({ city, table: tableNameOf(city) }));
  const before = await childrenOf(sql, parent);
  const created: string[] = [];
  const existing: string[] = [];
  for (const { city, table } of tables) {
    const child = before.get(table);
    if (child !== undefined) {
      if (child.kind !== "p") {
        throw new Error(
          `city table ${table} is not partitioned by month (relkind ${child.kind}); apply the migrations first (bootstrap does)`,
        );
      }
      existing.push(table);
      continue;
    }
    try {
      await createCityTable(sql, parent, city, table);
      created.push(table);
    } catch (error) {
      if ((error as { code?: unknown }).code !== DUPLICATE_TABLE) throw error;
      if (!(await childrenOf(sql, parent)).has(table)) {
        throw new Error(`table ${table} exists but is not a partition of ${parent}; rename or drop it`);
      }
      existing.push(table);
    }
  }
  return { created, existing };
}
