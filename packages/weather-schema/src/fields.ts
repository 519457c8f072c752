import { z } from "zod";
import {
  type ReadingFieldName,
  type ReadingSchemaVersion,
  readingFieldMetaSchema,
  readingSchema,
} from "./reading.ts";

/** What a field carries on the wire; each wire format maps these to its own types. */
export type ReadingFieldKind = "uuid" | "string" | "timestamp" | "number";

/** One field of the reading, read off the zod definition: what the wire schemas are built from. */
export interface ReadingField {
  readonly name: ReadingFieldName;
  readonly kind: ReadingFieldKind;
  /** Optional fields may be absent or null; on the wire they default to null. */
  readonly optional: boolean;
  readonly description: string;
  readonly unit: string | undefined;
  readonly since: ReadingSchemaVersion;
  /** Plausible range for numbers (validation only). */
  readonly min: number | undefined;
  readonly max: number | undefined;
}

function kindOf(name: string, schema: z.ZodType): ReadingFieldKind {
  // Read the definition, not the class: zod 4's string formats (z.uuid()) are not ZodString instances.
  const def = schema.def as { type: string; format?: unknown };
  if (def.type === "string") return def.format === "uuid" ? "uuid" : "string";
  if (def.type === "date") return "timestamp";
  if (def.type === "number") return "number";
  // A new kind of field needs a mapping in avro.ts and json-schema.ts first; fail at import time.
  throw new Error(`reading field ${name}: zod type "${def.type}" has no wire mapping`);
}

function describeField(name: ReadingFieldName, outer: z.ZodType): ReadingField {
  let inner = outer;
  let optional = false;
  // optional, exact optional and nullable all mean "may be absent or null" on the wire.
  while (inner.def.type === "optional" || inner.def.type === "nullable") {
    optional = true;
    inner = (inner.def as unknown as { innerType: z.ZodType }).innerType;
  }
  const parsed = readingFieldMetaSchema.safeParse(outer.meta());
  if (!parsed.success)
    throw new Error(`reading field ${name}: missing or bad .meta(): ${parsed.error.message}`);
  const kind = kindOf(name, inner);
  return Object.freeze({
    name,
    kind,
    optional,
    description: parsed.data.description,
    unit: parsed.data.unit,
    since: parsed.data.since,
    min: inner instanceof z.ZodNumber ? (inner.minValue ?? undefined) : undefined,
    max: inner instanceof z.ZodNumber ? (inner.maxValue ?? undefined) : undefined,
  });
}

const ALL_FIELDS: readonly ReadingField[] = Object.freeze(
  Object.entries(readingSchema.shape).map(([name, schema]) =>
    describeField(name as ReadingFieldName, schema as z.ZodType),
  ),
);

/** The fields of a schema version, in wire order (definition order; new fields only at the end). */
export function readingFields(version: ReadingSchemaVersion): readonly ReadingField[] {
  return ALL_FIELDS.filter((field) => field.since <= version);
}

/** "-60..50 °C": the allowed range of a numeric field, for docs and error messages. */
export function describeRange(field: ReadingField): string {
  const unit = field.unit === undefined ? "" : ` ${field.unit}`;
  return `${field.min ?? "-∞"}..${field.max ?? "∞"}${unit}`;
}

/** "Air temperature (unit: °C)": the field's documentation in both wire schemas. */
export function fieldDoc(field: ReadingField): string {
  return field.unit === undefined ? field.description : `${field.description} (unit: ${field.unit})`;
}
