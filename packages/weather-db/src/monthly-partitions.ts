import { getTableColumns } from "drizzle-orm";
import type { Sql, TransactionSql } from "postgres";
import { addMonths, formatMonth, type Month, monthStart, monthStartLiteral, parseMonth } from "./months.ts";
import { quoteIdentifier } from "./quote.ts";
import { weatherReadings } from "./tables.ts";

/**
 * The month partitions of one city table: weather_readings_<city>_<yyyy>_<mm>, FOR VALUES FROM the
 * month's first instant TO the next month's, in UTC. A reading of a month without a partition goes
 * to the city's DEFAULT partition (weather_readings_<city>_default), so nothing is ever refused for
 * its date; ensureMonths moves such rows into the month partition it creates.
 */

/** The name of a city table's partition for `month`: weather_readings_winnipeg_2026_01. */
export function monthPartitionName(cityTable: string, month: Month): string {
  return `${cityTable}_${formatMonth(month).replace("-", "_")}`;
}

/** Every column, in the table's order: rows move between partitions whole, ingested_at included. */
const COLUMNS = Object.values(getTableColumns(weatherReadings))
  .map((column) => quoteIdentifier(column.name))
  .join(", ");

type Queryable = Sql | TransactionSql;

const LOCK_NOT_AVAILABLE = "55P03";
/**
 * How long one attempt waits for a city table's ACCESS EXCLUSIVE lock. Short on purpose: while the
 * maintenance waits, the sink's inserts queue behind it, so a long query holding the table (a big
 * report) must not stall the sink for long; the attempt gives up and tries again a little later.
 */
const CITY_LOCK_TIMEOUT = "5s";
const CITY_LOCK_ATTEMPTS = 5;

/**
 * Runs `work` in a transaction holding the city table's ACCESS EXCLUSIVE lock, taken first so the
 * transaction never upgrades a weaker lock. Retried, whole, when that lock or another one the work
 * needs (its partitions') is not granted within CITY_LOCK_TIMEOUT; after CITY_LOCK_ATTEMPTS the
 * 55P03 error goes to the caller.
 */
async function withCityTableLocked<T>(
  sql: Sql,
  cityTable: string,
  work: (tx: TransactionSql) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin(async (tx) => {
        await tx.unsafe(`set local lock_timeout = '${CITY_LOCK_TIMEOUT}'`);
        await tx.unsafe(`lock table ${quoteIdentifier(cityTable)} in access exclusive mode`);
        return await work(tx);
      })) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE || attempt >= CITY_LOCK_ATTEMPTS)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}

/** The month partitions `cityTable` has, by month; tables not named by monthPartitionName are not ours. */
async function monthPartitionsOf(sql: Queryable, cityTable: string): Promise<Map<Month, string>> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${quoteIdentifier(cityTable)})`;
  const months = new Map<Month, string>();
  const prefix = `${cityTable}_`;
  for (const { name } of rows) {
    const suffix = name.startsWith(prefix) ? name.slice(prefix.length) : "";
    if (!/^\d{4}_\d{2}$/.test(suffix)) continue;
    const month = parseMonth(suffix.replace("_", "-"));
    if (monthPartitionName(cityTable, month) === name) months.set(month, name);
  }
  return months;
}

/** The city table's DEFAULT partition, if it has one (pg_partitioned_table.partdefid). */
async function defaultPartitionOf(sql: Queryable, cityTable: string): Promise<string | undefined> {
  const [row] = await sql<{ name: string | null }[]>`
    select nullif(partdefid, 0)::regclass::text as name
    from pg_partitioned_table where partrelid = to_regclass(${quoteIdentifier(cityTable)})`;
  return row?.name ?? undefined;
}

/** How many rows of each month the city's DEFAULT partition holds (a scan of the default only). */
export async function defaultPartitionMonths(sql: Queryable, cityTable: string): Promise<Map<Month, number>> {
  const table = await defaultPartitionOf(sql, cityTable);
  if (table === undefined) return new Map();
  const rows = await sql<{ month: string; rows: number }[]>`
    select to_char(observed_at at time zone 'UTC', 'YYYY-MM') as month, count(*)::int as rows
    from ${sql(table)} group by 1`;
  return new Map(rows.map((r) => [parseMonth(r.month), r.rows]));
}

export interface EnsureMonthsResult {
  /** Months this call gave a partition, e.g. "2026-01". */
  readonly created: readonly string[];
  /** Rows moved out of the DEFAULT partition into them. */
  readonly movedRows: number;
}

async function createMonth(tx: TransactionSql, cityTable: string, month: Month): Promise<void> {
  await tx.unsafe(
    `create table ${quoteIdentifier(monthPartitionName(cityTable, month))} partition of ${quoteIdentifier(cityTable)} ` +
      `for values from ('${monthStartLiteral(month)}') to ('${monthStartLiteral(addMonths(month, 1))}')`,
  );
}

/**
 * Gives the city table a partition for each of `months` that has none. When the DEFAULT partition
 * holds rows of such a month (PostgreSQL would refuse to create the partition over them), it is
 * detached, the months are created, those rows move into them, and it is attached again.
 *
 * All of it is one transaction that first takes the city table's ACCESS EXCLUSIVE lock: a sink
 * writing at the same time waits for the commit (milliseconds; about 1.5 s per 100k rows moved on a 2-core machine)
 * and its rows then go where the new partitions say; no reader ever sees a row missing or twice.
 * Nothing is locked when every month exists already, so a maintenance run with nothing to do does
 * not stall the sink. One city at a time: never two city tables' locks at once, so no deadlock
 * with a sink whose insert spans cities. The caller holds the schema lock (withSchemaLock), so no
 * other maintenance creates the same months meanwhile.
 */
export async function ensureMonths(
  sql: Sql,
  cityTable: string,
  months: Iterable<Month>,
): Promise<EnsureMonthsResult> {
  const existing = await monthPartitionsOf(sql, cityTable);
  const missing = [...new Set(months)].filter((month) => !existing.has(month)).sort((a, b) => a - b);
  if (missing.length === 0) return { created: [], movedRows: 0 };

  return await withCityTableLocked(sql, cityTable, async (tx) => {
    const defaultTable = await defaultPartitionOf(tx, cityTable);
    // The sink may have added rows to the default since we looked; under the lock it cannot.
    const inDefault = defaultTable === undefined ? new Map() : await defaultPartitionMonths(tx, cityTable);
    const toMove = missing.filter((month) => (inDefault.get(month) ?? 0) > 0);
    if (defaultTable === undefined || toMove.length === 0) {
      for (const month of missing) await createMonth(tx, cityTable, month);
      return { created: missing.map(formatMonth), movedRows: 0 };
    }
    const table = quoteIdentifier(cityTable);
    const fallback = quoteIdentifier(defaultTable);
    await tx.unsafe(`alter table ${table} detach partition ${fallback}`);
    for (const month of missing) await createMonth(tx, cityTable, month);
    let movedRows = 0;
    for (const month of toMove) {
      // One statement per month: the rows leave the default and enter the city table, which routes
      // them to the month just created (the default being detached, nowhere else).
      const moved = await tx.unsafe(
        `with moved as (delete from ${fallback} where observed_at >= $1 and observed_at < $2 returning ${COLUMNS})
         insert into ${table} (${COLUMNS}) select ${COLUMNS} from moved`,
        [monthStart(month).toISOString(), monthStart(addMonths(month, 1)).toISOString()],
      );
      movedRows += moved.count;
    }
    // Attaching checks that what is left in the default belongs to no partition: one scan of it.
    await tx.unsafe(`alter table ${table} attach partition ${fallback} default`);
    return { created: missing.map(formatMonth), movedRows };
  });
}

/**
 * Drops the city table's month partitions of months before `oldestKept`, one short transaction
 * each, holding the city table's lock (see withCityTableLocked) as ensureMonths does. Only tables named as monthPartitionName names them are touched; the DEFAULT partition and
 * anything else under the city table are left alone.
 */
export async function dropMonthsBefore(sql: Sql, cityTable: string, oldestKept: Month): Promise<string[]> {
  const dropped: string[] = [];
  const months = [...(await monthPartitionsOf(sql, cityTable))].sort(([a], [b]) => a - b);
  for (const [month, name] of months) {
    if (month >= oldestKept) break;
    await withCityTableLocked(sql, cityTable, (tx) => tx.unsafe(`drop table ${quoteIdentifier(name)}`));
    dropped.push(name);
  }
  return dropped;
}
