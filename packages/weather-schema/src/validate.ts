import type { StationCatalog } from "./catalog.ts";
import { describeRange, type ReadingField, readingFields } from "./fields.ts";
import {
  LATEST_READING_SCHEMA_VERSION,
  MAX_FUTURE_SKEW_MS,
  type ReadingFieldName,
  readingSchema,
  type WeatherReading,
} from "./reading.ts";

export type ReadingValidation =
  | { readonly ok: true; readonly reading: WeatherReading }
  | { readonly ok: false; readonly problems: readonly string[] };

const FIELDS = new Map(readingFields(LATEST_READING_SCHEMA_VERSION).map((f) => [f.name, f]));

/** A value as it should appear in an error message: strings quoted, dates in ISO, absence named. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  try {
    return JSON.stringify(value)?.slice(0, 80) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function expectation(field: ReadingField): string {
  const orNull = field.optional ? " (or null)" : "";
  switch (field.kind) {
    case "uuid":
      return "a UUID string";
    case "string":
      return "a non-empty string";
    case "timestamp":
      return "a valid Date";
    case "number":
      return `a finite number within ${describeRange(field)}${orNull}`;
  }
}

/**
 * Checks a reading against the definition and the catalog: plausible ranges, a UUID, a known
 * station, the station's own city, and a time no more than MAX_FUTURE_SKEW_MS ahead of `now`.
 * Never throws; each problem names the field, the value and what is allowed, one per field.
 */
export function validateReading(
  input: unknown,
  catalog: StationCatalog,
  now: Date = new Date(),
): ReadingValidation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, problems: [`reading: expected an object, got ${formatValue(input)}`] };
  }
  const record = input as Record<string, unknown>;
  const problems = new Map<string, string>();

  const parsed = readingSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path[0];
      const field = typeof name === "string" ? FIELDS.get(name as ReadingFieldName) : undefined;
      if (field === undefined) {
        problems.set("(reading)", `reading: ${issue.message}`);
      } else if (!problems.has(field.name)) {
        problems.set(
          field.name,
          `${field.name}: got ${formatValue(record[field.name])}; expected ${expectation(field)}`,
        );
      }
    }
  }

  // Cross-field checks run on whatever of their inputs is individually valid, so one bad message
  // reports all its problems at once.
  const stationId = record.stationId;
  const station = typeof stationId === "string" ? catalog.byId(stationId) : undefined;
  if (typeof stationId === "string" && !problems.has("stationId") && station === undefined) {
    const known = catalog.stations.map((s) => s.id).join(", ");
    problems.set(
      "stationId",
      `stationId: got ${formatValue(stationId)}; expected a station of the catalog (${known}); add new stations with STATIONS_FILE`,
    );
  }
  if (station !== undefined && !problems.has("city") && record.city !== station.city) {
    problems.set(
      "city",
      `city: got ${formatValue(record.city)}; expected "${station.city}", the city of station ${station.id}`,
    );
  }
  const observedAt = record.observedAt;
  if (observedAt instanceof Date && !problems.has("observedAt")) {
    const aheadMs = observedAt.getTime() - now.getTime();
    if (aheadMs > MAX_FUTURE_SKEW_MS) {
      problems.set(
        "observedAt",
        `observedAt: got ${formatValue(observedAt)}, ${Math.round(aheadMs / 1000)} s ahead of now (${now.toISOString()}); ` +
          `expected at most ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future`,
      );
    }
  }

  if (problems.size > 0 || !parsed.success) return { ok: false, problems: [...problems.values()] };
  return { ok: true, reading: parsed.data };
}
