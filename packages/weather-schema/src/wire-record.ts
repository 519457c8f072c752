import { type ReadingField, readingFields } from "./fields.ts";
import { ISO_UTC_TIMESTAMP_PATTERN } from "./json-schema.ts";
import { LATEST_READING_SCHEMA_VERSION, type ReadingSchemaVersion, type WeatherReading } from "./reading.ts";
import { formatValue } from "./validate.ts";

export type WireFormat = "avro" | "json";
export const WIRE_FORMATS: readonly WireFormat[] = ["avro", "json"];

/** A reading as the wire schemas see it: timestamps as millis (Avro) or ISO strings (JSON). */
export type WireRecord = Record<string, string | number | null>;

const ISO_UTC = new RegExp(ISO_UTC_TIMESTAMP_PATTERN);
/** Computed once: fromWireRecord runs for every message the sink decodes. */
const LATEST_FIELDS = readingFields(LATEST_READING_SCHEMA_VERSION);

/**
 * The record of a reading for one schema version. Fields the version does not have are left out
 * (a v1 encoder drops pressureHpa); optional fields it has are written as null when unset.
 */
export function toWireRecord(
  reading: WeatherReading,
  format: WireFormat,
  version: ReadingSchemaVersion,
): WireRecord {
  const record: WireRecord = {};
  for (const field of readingFields(version)) {
    const value = reading[field.name];
    if (value instanceof Date) {
      record[field.name] = format === "avro" ? value.getTime() : value.toISOString();
    } else {
      record[field.name] = value ?? null;
    }
  }
  return record;
}

function fromWireValue(field: ReadingField, value: unknown): { value: unknown } | { problem: string } {
  if (field.optional && (value === undefined || value === null)) return { value: null };
  // Built only for a bad value, not for every field of every reading the sink decodes.
  const got = () => `${field.name}: got ${formatValue(value)}; expected `;
  switch (field.kind) {
    case "uuid":
    case "string":
      return typeof value === "string" ? { value } : { problem: `${got()}a string` };
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? { value }
        : { problem: `${got()}a finite number` };
    case "timestamp": {
      // Millis from Avro's long; an ISO-8601 UTC string from JSON (millis accepted there too).
      const date =
        typeof value === "number" && Number.isSafeInteger(value)
          ? new Date(value)
          : typeof value === "string" && ISO_UTC.test(value)
            ? new Date(value)
            : undefined;
      return date !== undefined && !Number.isNaN(date.getTime())
        ? { value: date }
        : { problem: `${got()}epoch milliseconds or an ISO-8601 UTC timestamp` };
    }
  }
}

/**
 * The reading in a decoded record of any version, as the newest version sees it: optional fields
 * an older writer did not have come out as null. Checks structure only; validateReading checks sense.
 */
export function fromWireRecord(
  record: unknown,
): { ok: true; reading: WeatherReading } | { ok: false; problems: readonly string[] } {
  if (typeof record !== "object" || record === null) {
    return { ok: false, problems: [`reading: expected a record, got ${formatValue(record)}`] };
  }
  const source = record as Record<string, unknown>;
  const reading: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const field of LATEST_FIELDS) {
    const result = fromWireValue(field, source[field.name]);
    if ("problem" in result) problems.push(result.problem);
    else reading[field.name] = result.value;
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, reading: reading as WeatherReading };
}
