import { cityTableName } from "@weather/schema";
import type { DatabasePool } from "./database.ts";
import { selectCityTables } from "./sql/select-city-tables.ts";

/** SQLSTATE check_violation: what a row with no partition to go to fails with (weather_readings has no CHECKs). */
const NO_PARTITION_FOR_ROW = "23514";

/** The table of a city's readings, or undefined for a city that cannot be a table name. */
export function cityTableOf(city: string): string | undefined {
  try {
    return cityTableName(city);
  } catch {
    return undefined;
  }
}

/** The city tables one lookup found. Never changes: a refresh makes a new one. */
export class CityTableSet {
  /** Answers per city, so a chunk compares no table names per message. */
  private readonly byCity = new Map<string, boolean>();

  private readonly names: ReadonlySet<string>;

  constructor(names: ReadonlySet<string>) {
    this.names = names;
  }

  has(city: string): boolean {
    let exists = this.byCity.get(city);
    if (exists === undefined) {
      const table = cityTableOf(city);
      exists = table !== undefined && this.names.has(table);
      this.byCity.set(city, exists);
    }
    return exists;
  }

  sameAs(other: CityTableSet): boolean {
    if (other.names.size !== this.names.size) return false;
    for (const name of other.names) if (!this.names.has(name)) return false;
    return true;
  }
}

/**
 * Which city tables exist, looked up once and kept, instead of once in every chunk's
 * transaction. Looked up again when a chunk holds a reading of a city the last lookup found no
 * table for (bootstrap may have made it since), and when PostgreSQL refuses rows for want of a
 * table (saysATableIsMissing: one was dropped).
 */
export interface CityTables {
  /** The tables as the latest lookup found them; looks them up on the first call. */
  current(): Promise<CityTableSet>;
  /** Looks them up now. @throws PostgreSQL's error (an outage while it is down or not migrated). */
  refresh(): Promise<CityTableSet>;
}

export function createCityTables(database: Pick<DatabasePool, "current">): CityTables {
  let known: CityTableSet | undefined;
  // Lookups may overlap (partitions are stored side by side): the one started last wins.
  let started = 0;
  let knownFrom = 0;
  async function refresh(): Promise<CityTableSet> {
    const lookup = ++started;
    const found = new CityTableSet(await selectCityTables(database.current()));
    if (lookup > knownFrom) {
      known = found;
      knownFrom = lookup;
    }
    return found;
  }
  return { current: async () => known ?? refresh(), refresh };
}

/**
 * Whether PostgreSQL refused a chunk's rows because a row's city has no table (COPY or INSERT into
 * the partitioned parent found no partition for it): the tables changed since they were looked up.
 */
export function saysATableIsMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === NO_PARTITION_FOR_ROW;
}
