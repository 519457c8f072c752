import { fieldDoc, type ReadingField, readingFields } from "./fields.ts";
import type { ReadingSchemaVersion } from "./reading.ts";

const AVRO_NAMESPACE = "weather";
const AVRO_RECORD_NAME = "WeatherReading";

type AvroType = string | { type: string; logicalType: string } | readonly AvroType[];

export interface AvroField {
  readonly name: string;
  readonly type: AvroType;
  readonly doc: string;
  readonly default?: null;
}

/** An Avro record schema as JSON, the shape the registry and avsc take. */
export interface AvroRecordSchema {
  readonly type: "record";
  readonly name: string;
  readonly namespace: string;
  readonly doc: string;
  readonly fields: readonly AvroField[];
}

function baseType(field: ReadingField): AvroType {
  switch (field.kind) {
    case "uuid":
      return { type: "string", logicalType: "uuid" };
    case "string":
      return "string";
    case "timestamp":
      // Milliseconds since the epoch, UTC; decoders without logical-type support still see a long.
      return { type: "long", logicalType: "timestamp-millis" };
    case "number":
      return "double";
  }
}

function avroField(field: ReadingField): AvroField {
  const doc = fieldDoc(field);
  // "null" first so that null can be the default, as Avro requires of a union's default.
  if (field.optional) return { name: field.name, type: ["null", baseType(field)], doc, default: null };
  return { name: field.name, type: baseType(field), doc };
}

/** The Avro schema of a reading version, derived from the zod definition in reading.ts. */
export function readingAvroSchema(version: ReadingSchemaVersion): AvroRecordSchema {
  return {
    type: "record",
    name: AVRO_RECORD_NAME,
    namespace: AVRO_NAMESPACE,
    doc: `A weather station reading (schema version ${version})`,
    fields: readingFields(version).map(avroField),
  };
}
