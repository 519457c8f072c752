import {
  type CityMonthsResult,
  type ConnectOptions,
  createDatabaseIfMissing,
  databaseNameOf,
  ensureReaderRole,
  ensureSinkRole,
  type MigrationsResult,
  type MonthWindow,
  type PartitionsResult,
  prepareDatabase,
  type RoleResult,
} from "@weather/db";
import type { RoleSpec } from "./config.ts";
import { BootstrapError } from "./errors.ts";

export interface DatabaseOutcome {
  readonly database: string;
  readonly databaseCreated: boolean;
  readonly migrations: MigrationsResult;
  readonly partitions: PartitionsResult;
  /** The month partitions of each city table. */
  readonly months: readonly CityMonthsResult[];
  /** The sink's role and the tables it may use; null when SINK_DB_ROLE=none. */
  readonly sinkRole?: RoleResult | null;
  /** The read-only role and the tables it may read; null when READER_DB_ROLE=none. */
  readonly readerRole?: RoleResult | null;
}

/** The roles bootstrap creates and grants; null: none. */
export interface ProductRoles {
  readonly sink: RoleSpec | null;
  readonly reader: RoleSpec | null;
}

function hintFor(error: unknown): string {
  switch ((error as { code?: unknown }).code) {
    case "42501":
      return "the role in DATABASE_URL lacks a privilege: grant CREATEDB and CREATEROLE, or create the database, its owner and the roles by hand (SINK_DB_ROLE=none and READER_DB_ROLE=none skip the roles)";
    case "42P17":
      return "two cities map to overlapping partitions; check the station catalog (STATIONS_FILE)";
    default:
      return "check DATABASE_URL and the PostgreSQL server log";
  }
}

/**
 * Creates the product's database if needed, applies the committed migrations and gives every
 * city its table and the months of the window around now. Safe to run concurrently (see
 * prepareDatabase's advisory lock).
 */
export async function prepareProductDatabase(
  databaseUrl: string,
  cities: readonly string[],
  roles: ProductRoles = { sink: null, reader: null },
  connect: ConnectOptions = {},
  months?: MonthWindow,
): Promise<DatabaseOutcome> {
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || "5432"}/${databaseNameOf(databaseUrl)}`;
  let step = "cannot create database";
  try {
    const { database, created } = await createDatabaseIfMissing(databaseUrl, connect);
    step = "cannot migrate database";
    const {
      migrations,
      partitions,
      months: cityMonths,
    } = await prepareDatabase(databaseUrl, cities, {
      ...connect,
      ...(months !== undefined ? { months } : {}),
    });
    step = `cannot prepare the sink's role ${roles.sink?.name}`;
    const sinkRole = roles.sink ? await ensureSinkRole(databaseUrl, roleOptions(roles.sink), connect) : null;
    step = `cannot prepare the read-only role ${roles.reader?.name}`;
    const readerRole = roles.reader
      ? await ensureReaderRole(databaseUrl, roleOptions(roles.reader), connect)
      : null;
    return {
      database,
      databaseCreated: created,
      migrations,
      partitions,
      months: cityMonths,
      sinkRole,
      readerRole,
    };
  } catch (error) {
    throw new BootstrapError(step, where, error, hintFor(error));
  }
}

function roleOptions(spec: RoleSpec): { role: string; password?: string } {
  return { role: spec.name, ...(spec.password !== undefined ? { password: spec.password } : {}) };
}
