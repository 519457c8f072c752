import { fieldDoc, type ReadingField, readingFields } from "./fields.ts";
import type { ReadingSchemaVersion } from "./reading.ts";

/** ISO-8601 UTC as Date.prototype.toISOString writes it; the codec's JSON form of a timestamp. */
export const ISO_UTC_TIMESTAMP_PATTERN = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$";

export type JsonSchemaProperty =
  | { readonly type: "string" | "number"; readonly description: string; readonly pattern?: string }
  | {
      readonly anyOf: readonly JsonSchemaProperty[];
      readonly description: string;
      readonly default: null;
    }
  | { readonly type: "null" };

/** A draft-07 object schema, the dialect the registry client's Ajv validates by default. */
export interface ReadingJsonSchema {
  readonly $schema: string;
  readonly title: string;
  readonly description: string;
  readonly type: "object";
  readonly additionalProperties: false;
  readonly required: readonly string[];
  readonly properties: Readonly<Record<string, JsonSchemaProperty>>;
}

function baseProperty(field: ReadingField): JsonSchemaProperty {
  const description = fieldDoc(field);
  switch (field.kind) {
    case "uuid":
    case "string":
      return { type: "string", description };
    case "timestamp":
      // A pattern, not `format: "date-time"`: the registry client's Ajv runs without ajv-formats
      // and refuses unknown formats in strict mode.
      return { type: "string", description, pattern: ISO_UTC_TIMESTAMP_PATTERN };
    case "number":
      return { type: "number", description };
  }
}

function property(field: ReadingField): JsonSchemaProperty {
  if (!field.optional) return baseProperty(field);
  // anyOf instead of `type: ["number", "null"]`: Ajv's strictTypes warns about union types.
  return { anyOf: [baseProperty(field), { type: "null" }], description: fieldDoc(field), default: null };
}

/**
 * The JSON Schema of a reading version, derived from the zod definition in reading.ts.
 * The content model is closed (additionalProperties: false) on purpose: only then is adding an
 * optional property a BACKWARD-compatible change, because no older message can already carry the
 * new property with some other type.
 * No $id: a shared Ajv instance would refuse a second schema with the same $id (v1 next to v2).
 */
export function readingJsonSchema(version: ReadingSchemaVersion): ReadingJsonSchema {
  const fields = readingFields(version);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "WeatherReading",
    description: `A weather station reading (schema version ${version})`,
    type: "object",
    additionalProperties: false,
    required: fields.filter((f) => !f.optional).map((f) => f.name),
    properties: Object.fromEntries(fields.map((f) => [f.name, property(f)])),
  };
}
