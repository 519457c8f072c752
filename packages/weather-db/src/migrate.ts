import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as applyMigrations } from "drizzle-orm/postgres-js/migrator";
import type { Sql } from "postgres";
import { type ConnectOptions, connectOnce } from "./connect.ts";
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
export const SCHEMA_LOCK_KEY = 0x7765_6174_6872n; // "weathr"

export interface MigrationsResult {
  /** Migrations this call applied; 0 when the database was already up to date. */
  readonly applied: number;
  /** Migrations recorded in the database afterwards. */
  readonly total: number;
}

export interface PrepareResult {
  readonly migrations: MigrationsResult;
  readonly partitions: PartitionsResult;
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
export async function applyCommittedMigrations(sql: Sql): Promise<MigrationsResult> {
  const before = await countApplied(sql);
  await applyMigrations(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
  const total = await countApplied(sql);
  return { applied: total - before, total };
}

/**
 * Brings the database DATABASE_URL names up to date and gives every city its partition, under
 * the schema lock. The database must exist (createDatabaseIfMissing).
 */
export async function prepareDatabase(
  databaseUrl: string,
  cities: Iterable<string>,
  options: ConnectOptions = {},
): Promise<PrepareResult> {
  const sql = connectOnce(databaseUrl, options);
  try {
    return await withSchemaLock(sql, async () => {
      const migrations = await applyCommittedMigrations(sql);
      const partitions = await ensureCityPartitions(sql, cities);
      return { migrations, partitions };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Applies the committed migrations, under the schema lock. */
export async function migrate(databaseUrl: string, options: ConnectOptions = {}): Promise<MigrationsResult> {
  return (await prepareDatabase(databaseUrl, [], options)).migrations;
}
