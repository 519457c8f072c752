import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type ConfigProblem, defineSettingsGroup, setting } from "@weather/settings";
import { z } from "zod";
import { DEFAULT_STATIONS, type Station } from "./stations.ts";

/**
 * A city slug becomes part of a PostgreSQL table name, so it is restricted to characters that
 * never need quoting. 40 characters keeps `weather_readings_<city>` under the 63-byte identifier limit
 * with room for suffixes.
 */
const CITY_SLUG_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const STATION_ID_PATTERN = /^[A-Z0-9][A-Z0-9_-]{0,15}$/;

export interface StationCatalog {
  readonly stations: readonly Station[];
  byId(id: string): Station | undefined;
  /** Distinct city slugs, in catalog order. */
  readonly cities: readonly string[];
}

/** The table holding one city's readings (a partition of weather_readings). */
export function cityTableName(city: string): string {
  if (!CITY_SLUG_PATTERN.test(city)) {
    throw new Error(
      `city "${city}" is not a safe table name part: use [a-z][a-z0-9_]*, at most 40 characters`,
    );
  }
  return `weather_readings_${city}`;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const stationSchema = z.strictObject({
  id: z.string().regex(STATION_ID_PATTERN, "must be 1-16 upper-case letters, digits, '_' or '-', e.g. CYYC"),
  city: z
    .string()
    .regex(CITY_SLUG_PATTERN, "must match [a-z][a-z0-9_]* (at most 40 characters), e.g. calgary"),
  name: z.string().trim().min(1, "must not be empty"),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  timeZone: z.string().refine(isTimeZone, "must be an IANA time zone, e.g. America/Edmonton"),
  normals: z.strictObject({
    monthlyMeanTempC: z.array(z.number().min(-60).max(50)).length(12, "must have 12 values, January first"),
    diurnalRangeC: z.number().min(0).max(40),
    meanWindKmh: z.number().min(0).max(250),
    meanHumidityPct: z.number().min(0).max(100),
  }),
});

// Either a bare array of stations or { "stations": [...] }; the object form leaves room for more keys.
const stationsFileSchema = z.union([
  z.array(z.unknown()),
  z.strictObject({ stations: z.array(z.unknown()) }).transform((file) => file.stations),
]);

/** Builds a catalog; a later station with the same id replaces an earlier one. */
export function createStationCatalog(stations: readonly Station[]): StationCatalog {
  const byId = new Map<string, Station>();
  for (const station of stations) byId.set(station.id, station);
  const list = Object.freeze([...byId.values()]);
  const cities = Object.freeze([...new Set(list.map((s) => s.city))]);
  return Object.freeze({ stations: list, byId: (id: string) => byId.get(id), cities });
}

function fileProblem(message: string): ConfigProblem {
  return { setting: "STATIONS_FILE", message };
}

/** The stations of a JSON file, or undefined after pushing what is wrong with it. */
function readStationsFile(path: string, problems: ConfigProblem[]): readonly Station[] | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(fileProblem(`cannot read ${path}: ${reason}`));
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(fileProblem(`${path} is not valid JSON: ${reason}`));
    return undefined;
  }
  const file = stationsFileSchema.safeParse(json);
  if (!file.success) {
    problems.push(
      fileProblem(`${path}: expected a JSON array of stations or {"stations": [...]}, see DEFAULT_STATIONS`),
    );
    return undefined;
  }

  const before = problems.length;
  const stations: Station[] = [];
  const seen = new Map<string, number>();
  file.data.forEach((entry, index) => {
    const id = typeof entry === "object" && entry !== null && "id" in entry ? String(entry.id) : undefined;
    const label = `${path}: station [${index}]${id === undefined ? "" : ` (id "${id}")`}`;
    const parsed = stationSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.map(String).join(".") || "(entry)";
        problems.push(fileProblem(`${label}, field ${field}: ${issue.message}`));
      }
      return;
    }
    const earlier = seen.get(parsed.data.id);
    if (earlier !== undefined) {
      problems.push(fileProblem(`${label}: duplicate id, already defined by station [${earlier}]`));
      return;
    }
    seen.set(parsed.data.id, index);
    stations.push(parsed.data);
  });
  return problems.length > before ? undefined : stations;
}

/** STATIONS_FILE, the one setting of the station catalog. */
export const CATALOG_SETTINGS = Object.freeze({
  stationsFile: setting({
    env: "STATIONS_FILE",
    value: "PATH",
    description:
      "JSON file of extra stations, or of stations replacing a built-in one by id (a new city gets its table from bootstrap)",
    defaultText: "none: the built-in Winnipeg (CYWG) and Vancouver (CYVR)",
    schema: z.string().trim(),
  }),
});

/**
 * The built-in stations plus those of the JSON file `stationsFile` names (relative to the working
 * directory); a file station with a built-in id replaces it. Adding a city is a file change, no
 * code. Undefined after pushing every problem of the file, naming the file, the entry and the field.
 */
export function stationCatalogFrom(
  stationsFile: string | undefined,
  problems: ConfigProblem[],
): StationCatalog | undefined {
  if (stationsFile === undefined) return createStationCatalog(DEFAULT_STATIONS);
  const stations = readStationsFile(resolve(stationsFile), problems);
  return stations === undefined ? undefined : createStationCatalog([...DEFAULT_STATIONS, ...stations]);
}

/** The stations readings come from and are validated against (STATIONS_FILE and the built-in ones). */
export const STATION_CATALOG = defineSettingsGroup({
  title: "Station catalog",
  settings: CATALOG_SETTINGS,
  read: ({ stationsFile }, { problems }) => stationCatalogFrom(stationsFile, problems),
});
