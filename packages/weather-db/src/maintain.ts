import { getTableName } from "drizzle-orm";
import type { Sql } from "postgres";
import { type ConnectOptions, connectOnce } from "./connect.ts";
import { withSchemaLock } from "./migrate.ts";
import { defaultPartitionMonths, dropMonthsBefore, ensureMonths } from "./monthly-partitions.ts";
import {
  addMonths,
  formatMonth,
  type Month,
  type MonthWindow,
  monthOf,
  monthsBetween,
  oldestKept,
} from "./months.ts";
import { quoteIdentifier } from "./quote.ts";
import { weatherReadings } from "./tables.ts";

/** What one maintenance run did to one city table. */
export interface CityMaintenance {
  readonly table: string;
  /** Months given a partition, e.g. "2026-01". */
  readonly created: readonly string[];
  /** Rows moved out of the DEFAULT partition into those months. */
  readonly movedRows: number;
  /** Month partitions dropped for being older than the retention. */
  readonly dropped: readonly string[];
  /**
   * Rows left in the DEFAULT partition because their month is older than the retention: the
   * maintenance never deletes a row, it only drops whole month partitions.
   */
  readonly oldRowsInDefault: number;
}

export interface MaintenanceResult {
  readonly cities: readonly CityMaintenance[];
  /** The oldest month kept, e.g. "2025-11"; undefined when retention keeps everything. */
  readonly oldestKept: string | undefined;
}

export type MaintenanceOptions = Pick<MonthWindow, "monthsAhead" | "retentionMonths"> & {
  /** The instant whose month counts as current; the clock's unless given. */
  readonly now?: Date;
};

/** Thrown when the database has no weather_readings (or an old layout): bootstrap first. */
export class NotBootstrappedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotBootstrappedError";
  }
}

async function partitionedCityTables(sql: Sql): Promise<string[]> {
  const parent = getTableName(weatherReadings);
  const [exists] = await sql<
    { name: string | null }[]
  >`select to_regclass(${quoteIdentifier(parent)})::text as name`;
  if (!exists?.name) throw new NotBootstrappedError(`the database has no table ${parent}`);
  const rows = await sql<{ name: string; kind: string }[]>`
    select c.relname as name, c.relkind::text as kind
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${quoteIdentifier(parent)}) order by 1`;
  const flat = rows.filter((row) => row.kind !== "p").map((row) => row.name);
  if (flat.length > 0) {
    throw new NotBootstrappedError(`city tables not partitioned by month yet: ${flat.join(", ")}`);
  }
  return rows.map((row) => row.name);
}

/** One city table: months ahead, the default's rows into their months, old months dropped. */
async function maintainCity(
  sql: Sql,
  table: string,
  current: Month,
  monthsAhead: number,
  kept: Month | undefined,
): Promise<CityMaintenance> {
  const inDefault = await defaultPartitionMonths(sql, table);
  const wanted = monthsBetween(current, addMonths(current, monthsAhead));
  let oldRowsInDefault = 0;
  for (const [month, rows] of inDefault) {
    if (kept === undefined || month >= kept) wanted.push(month);
    else oldRowsInDefault += rows;
  }
  const { created, movedRows } = await ensureMonths(sql, table, wanted);
  const dropped = kept === undefined ? [] : await dropMonthsBefore(sql, table, kept);
  return { table, created, movedRows, dropped, oldRowsInDefault };
}

/**
 * The maintenance of the monthly partitions, for cron: for every city table, creates the months
 * from the current one to `monthsAhead` after it, moves the rows its DEFAULT partition holds into
 * month partitions it creates for them (unless their month is older than the retention), and drops
 * the month partitions older than the retention. Idempotent: a second run finds nothing to do.
 * Runs under the schema lock, so concurrent runs (and bootstraps) take turns; each city's change is
 * one short transaction a concurrently writing sink merely waits for (see ensureMonths).
 * @throws NotBootstrappedError when the database has no monthly city tables.
 */
export async function maintainPartitions(
  databaseUrl: string,
  options: MaintenanceOptions,
  connect: ConnectOptions = {},
): Promise<MaintenanceResult> {
  const now = options.now ?? new Date();
  const current = monthOf(now);
  const kept = oldestKept(now, options.retentionMonths);
  const sql = connectOnce(databaseUrl, connect);
  try {
    return await withSchemaLock(sql, async () => {
      const cities: CityMaintenance[] = [];
      for (const table of await partitionedCityTables(sql)) {
        cities.push(await maintainCity(sql, table, current, options.monthsAhead, kept));
      }
      return { cities, oldestKept: kept === undefined ? undefined : formatMonth(kept) };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
