import {
  createDatabaseIfMissing,
  databaseNameOf,
  type MigrationsResult,
  type PartitionsResult,
  prepareDatabase,
} from "@weather/db";
import { BootstrapError } from "./errors.ts";

export interface DatabaseOutcome {
  readonly database: string;
  readonly databaseCreated: boolean;
  readonly migrations: MigrationsResult;
  readonly partitions: PartitionsResult;
}

function hintFor(error: unknown): string {
  switch ((error as { code?: unknown }).code) {
    case "42501":
      return "the role in DATABASE_URL lacks a privilege: grant CREATEDB, or create the database and its owner by hand";
    case "42P17":
      return "two cities map to overlapping partitions; check the station catalog (STATIONS_FILE)";
    default:
      return "check DATABASE_URL and the PostgreSQL server log";
  }
}

/**
 * Creates the product's database if needed, applies the committed migrations and gives every
 * city its partition. Safe to run concurrently (see prepareDatabase's advisory lock).
 */
export async function prepareProductDatabase(
  databaseUrl: string,
  cities: readonly string[],
): Promise<DatabaseOutcome> {
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || "5432"}/${databaseNameOf(databaseUrl)}`;
  let step = "cannot create database";
  try {
    const { database, created } = await createDatabaseIfMissing(databaseUrl);
    step = "cannot migrate database";
    const { migrations, partitions } = await prepareDatabase(databaseUrl, cities);
    return { database, databaseCreated: created, migrations, partitions };
  } catch (error) {
    throw new BootstrapError(step, where, error, hintFor(error));
  }
}
