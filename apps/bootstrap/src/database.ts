import {
  type CityMonthsResult,
  type ConnectOptions,
  createDatabaseIfMissing,
  databaseNameOf,
  ensureSinkRole,
  type MigrationsResult,
  type MonthWindow,
  type PartitionsResult,
  prepareDatabase,
  type SinkRoleResult,
} from "@weather/db";
import { BootstrapError } from "./errors.ts";

export interface DatabaseOutcome {
  readonly database: string;
  readonly databaseCreated: boolean;
  readonly migrations: MigrationsResult;
  readonly partitions: PartitionsResult;
  /** The month partitions of each city table. */
  readonly months: readonly CityMonthsResult[];
  /** The sink's role and the tables it may use; null when SINK_DB_ROLE=none. */
  readonly sinkRole?: SinkRoleResult | null;
}

function hintFor(error: unknown): string {
  switch ((error as { code?: unknown }).code) {
    case "42501":
      return "the role in DATABASE_URL lacks a privilege: grant CREATEDB and CREATEROLE, or create the database, its owner and the sink's role by hand (SINK_DB_ROLE=none skips the role)";
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
  sinkRole: { readonly name: string; readonly password?: string } | null = null,
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
    step = `cannot prepare the sink's role ${sinkRole?.name}`;
    const role = sinkRole
      ? await ensureSinkRole(
          databaseUrl,
          {
            role: sinkRole.name,
            ...(sinkRole.password !== undefined ? { password: sinkRole.password } : {}),
          },
          connect,
        )
      : null;
    return { database, databaseCreated: created, migrations, partitions, months: cityMonths, sinkRole: role };
  } catch (error) {
    throw new BootstrapError(step, where, error, hintFor(error));
  }
}
