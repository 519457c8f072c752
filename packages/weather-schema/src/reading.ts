import { z } from "zod";

/**
 * Versions of the reading's wire schema. Version 2 added `pressureHpa`; every later version must
 * stay BACKWARD compatible (new optional fields with defaults only), so consumers on the newest
 * version read every older message.
 */
export const READING_SCHEMA_VERSIONS = [1, 2] as const;
export type ReadingSchemaVersion = (typeof READING_SCHEMA_VERSIONS)[number];
export const LATEST_READING_SCHEMA_VERSION: ReadingSchemaVersion = 2;

/** Readings stamped further ahead than this are rejected: a clock that far off is a bug, not weather. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Per-field facts the wire schemas and the error messages need but zod has no place for. */
export const readingFieldMetaSchema = z.object({
  description: z.string().min(1),
  /** The unit, for docs and error messages; also part of the field name (temperatureC). */
  unit: z.string().optional(),
  /** The schema version that introduced the field. */
  since: z.union([z.literal(1), z.literal(2)]),
});
export type ReadingFieldMeta = z.infer<typeof readingFieldMetaSchema>;

function meta(m: ReadingFieldMeta): ReadingFieldMeta {
  return m;
}

/**
 * THE definition of a weather reading. The Avro schema (avro.ts), the JSON Schema (json-schema.ts),
 * the TypeScript type below and validation (validate.ts) all derive from this object, so adding or
 * changing a field here changes all of them; fields.ts is the one place that reads it.
 *
 * Ranges are physical plausibility checks for validation; they are deliberately not written into
 * the wire schemas, so tightening a range never needs a new schema version.
 */
export const readingSchema = z.object({
  readingId: z
    .uuid()
    .meta(meta({ description: "Unique id of this reading (UUID); the sink's idempotency key", since: 1 })),
  stationId: z
    .string()
    .min(1)
    .meta(meta({ description: "Id of the reporting station in the station catalog, e.g. CYWG", since: 1 })),
  city: z
    .string()
    .min(1)
    .meta(meta({ description: "City slug of the station, e.g. winnipeg; selects the city table", since: 1 })),
  observedAt: z
    .date()
    .meta(meta({ description: "When the reading was observed, UTC, millisecond precision", since: 1 })),
  temperatureC: z
    .number()
    .min(-60)
    .max(50)
    .meta(meta({ description: "Air temperature", unit: "°C", since: 1 })),
  windSpeedKmh: z
    .number()
    .min(0)
    .max(250)
    .meta(meta({ description: "Mean wind speed", unit: "km/h", since: 1 })),
  humidityPct: z
    .number()
    .min(0)
    .max(100)
    .meta(meta({ description: "Relative humidity", unit: "%", since: 1 })),
  // Sea-level pressure records lie near 870 and 1084 hPa; anything outside is a broken sensor.
  pressureHpa: z
    .number()
    .min(870)
    .max(1085)
    .nullable()
    // exactOptional: absent or null, never an explicit undefined (the contract's `?: number | null`).
    .exactOptional()
    .meta(
      meta({
        description: "Sea-level air pressure; null when the station has no barometer",
        unit: "hPa",
        since: 2,
      }),
    ),
});

/** A weather reading as producers create it and the sink stores it. */
export type WeatherReading = z.output<typeof readingSchema>;
export type ReadingFieldName = keyof WeatherReading;
