import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as applyMigrations } from "drizzle-orm/postgres-js/migrator";
import type { Sql } from "postgres";
import { type ConnectOptions, connectOnce } from "./connect.ts";
import { ensureMonths } from "./monthly-partitions.ts";
import { bootstrapMonths, DEFAULT_MONTH_WINDOW, formatMonth, type MonthWindow } from "./months.ts";
import { ensureCityPartitions, type PartitionsResult } from "./partitions.ts";

/** The committed migrations; `../drizzle` from both src/ and dist/. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

/** Where drizzle-orm's migrator records what it applied (its defaults, named here to count them). */
const MIGRATIONS_SCHEMA = "drizzle";
const MIGRATIONS_TABLE = "__drizzle_migrations";

/**
 * Key of the session-level advisory lock that serialises schema changes. Advisory locks are
 * scoped to one database, so environments on the same server do not wait for each other.
 */
const SCHEMA_LOCK_KEY = 0x7765_6174_6872n; // "weathr"

export interface MigrationsResult {
  /** Migrations this call applied; 0 when the database was already up to date. */
  readonly applied: number;
  /** Migrations recorded in the database afterwards. */
  readonly total: number;
}

/** The month partitions one city table was given. */
export interface CityMonthsResult {
  readonly table: string;
  /** Months given a partition by this call, e.g. "2026-01". */
  readonly created: readonly string[];
  /** Months that had one already. */
  readonly existing: readonly string[];
  /** Rows moved out of the DEFAULT partition into the months created. */
  readonly movedRows: number;
}

export interface PrepareResult {
  readonly migrations: MigrationsResult;
  readonly partitions: PartitionsResult;
  readonly months: readonly CityMonthsResult[];
}

export interface PrepareOptions extends ConnectOptions {
  /** Which months around now every city table gets; DEFAULT_MONTH_WINDOW unless given. */
  readonly months?: MonthWindow;
  /** The instant whose month counts as current; the clock's unless given. */
  readonly now?: Date;
}

async function countApplied(sql: Sql): Promise<number> {
  // Two queries: a CASE would still make PostgreSQL resolve the table when it does not exist yet.
  const [table] = await sql<{ name: string | null }[]>`
    select to_regclass(${`${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`})::text as name`;
  if (!table?.name) return 0;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from ${sql(MIGRATIONS_SCHEMA)}.${sql(MIGRATIONS_TABLE)}`;
  return row?.n ?? 0;
}

/**
 * Runs `work` while holding the schema lock. Two bootstraps at once would otherwise both see an
 * empty migrations table and both run CREATE TABLE; with the lock the second waits, then finds
 * everything in place. `sql` must be a single connection (see connectOnce): the lock belongs to
 * the session that took it.
 */
export async function withSchemaLock<T>(sql: Sql, work: () => Promise<T>): Promise<T> {
  await sql`select pg_advisory_lock(${SCHEMA_LOCK_KEY.toString()}::bigint)`;
  try {
    return await work();
  } finally {
    // If the connection broke, the server already released the lock with the session.
    await sql`select pg_advisory_unlock(${SCHEMA_LOCK_KEY.toString()}::bigint)`.catch(() => {});
  }
}

/** Applies the committed migrations on `sql`; the caller holds the schema lock. */
async function applyCommittedMigrations(sql: Sql): Promise<MigrationsResult> {
  const before = await countApplied(sql);
  await applyMigrations(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
  const total = await countApplied(sql);
  return { applied: total - before, total };
}

/**
 * Brings the database DATABASE_URL names up to date and gives every city its table, and every
 * city table the months of the window around now (bootstrapMonths), under the schema lock. The
 * database must exist (createDatabaseIfMissing).
 */
export async function prepareDatabase(
  databaseUrl: string,
  cities: Iterable<string>,
  options: PrepareOptions = {},
): Promise<PrepareResult> {
  const { months: window = DEFAULT_MONTH_WINDOW, now = new Date(), ...connect } = options;
  const sql = connectOnce(databaseUrl, connect);
  try {
    return await withSchemaLock(sql, async () => {
      const migrations = await applyCommittedMigrations(sql);
      const partitions = await ensureCityPartitions(sql, cities);
      const wanted = bootstrapMonths(now, window);
      const months: CityMonthsResult[] = [];
      for (const table of [...partitions.created, ...partitions.existing]) {
        const { created, movedRows } = await ensureMonths(sql, table, wanted);
        const existing = wanted.map(formatMonth).filter((month) => !created.includes(month));
        months.push({ table, created, existing, movedRows });
      }
      return { migrations, partitions, months };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Applies the committed migrations, under the schema lock. */
export async function migrate(databaseUrl: string, options: ConnectOptions = {}): Promise<MigrationsResult> {
  return (await prepareDatabase(databaseUrl, [], options)).migrations;
}
