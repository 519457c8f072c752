import { type ConnectOptions, connectOnce, databaseNameOf, maintenanceUrlOf } from "./connect.ts";

export interface CreateDatabaseResult {
  readonly database: string;
  readonly created: boolean;
}

const DUPLICATE_DATABASE = "42P04";
/** What a concurrent CREATE DATABASE of the same name usually fails with, rather than 42P04. */
const UNIQUE_VIOLATION = "23505";

/**
 * Creates the database DATABASE_URL names unless it exists, through the server's maintenance
 * database (PostgreSQL has no CREATE DATABASE IF NOT EXISTS). Looking first means a role without
 * CREATEDB can still run against a database someone else created. Two concurrent callers may
 * both see no database and both create it; the loser gets duplicate_database (42P04) or, when
 * the two race inside the catalog insert, a unique violation on pg_database (23505, observed in
 * this package's race test); either means "it exists now", which is all we want.
 */
export async function createDatabaseIfMissing(
  databaseUrl: string,
  options: ConnectOptions = {},
): Promise<CreateDatabaseResult> {
  const database = databaseNameOf(databaseUrl);
  const sql = connectOnce(maintenanceUrlOf(databaseUrl), options);
  try {
    const [existing] = await sql`select 1 from pg_database where datname = ${database}`;
    if (existing) return { database, created: false };
    try {
      await sql`create database ${sql(database)}`;
      return { database, created: true };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === DUPLICATE_DATABASE) return { database, created: false };
      if (code === UNIQUE_VIOLATION) {
        const [now] = await sql`select 1 from pg_database where datname = ${database}`;
        if (now) return { database, created: false };
      }
      throw error;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Drops a database, for tests and throwaway environments; kicks out its remaining sessions. */
export async function dropDatabaseIfExists(databaseUrl: string, options: ConnectOptions = {}): Promise<void> {
  const database = databaseNameOf(databaseUrl);
  const sql = connectOnce(maintenanceUrlOf(databaseUrl), options);
  try {
    await sql`drop database if exists ${sql(database)} with (force)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
