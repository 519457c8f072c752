import { Ajv } from "ajv";
import avro from "avsc";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { sampleReading } from "../test/sample-reading.ts";
import { readingAvroSchema } from "./avro.ts";
import { readingFields } from "./fields.ts";
import { readingJsonSchema } from "./json-schema.ts";
import {
  READING_SCHEMA_VERSIONS,
  type ReadingFieldName,
  readingSchema,
  type WeatherReading,
} from "./reading.ts";
import { fromWireRecord, toWireRecord } from "./wire-record.ts";

// The contract's shape (docs/contracts.md); the derived type must stay assignable both ways.
interface ContractReading {
  readingId: string;
  stationId: string;
  city: string;
  observedAt: Date;
  temperatureC: number;
  windSpeedKmh: number;
  humidityPct: number;
  pressureHpa?: number | null;
}

describe("one definition, three derived schemas", () => {
  it("gives the TypeScript type exactly the contract's fields", () => {
    expectTypeOf<WeatherReading>().toExtend<ContractReading>();
    expectTypeOf<ContractReading>().toExtend<WeatherReading>();
    expectTypeOf<ReadingFieldName>().toEqualTypeOf<keyof ContractReading>();
  });

  it.each(READING_SCHEMA_VERSIONS)(
    "puts every field of v%i into Avro and JSON Schema with the same optionality",
    (version) => {
      const fields = readingFields(version);
      const avroSchema = readingAvroSchema(version);
      const jsonSchema = readingJsonSchema(version);

      expect(avroSchema.fields.map((f) => f.name)).toEqual(fields.map((f) => f.name));
      expect(Object.keys(jsonSchema.properties)).toEqual(fields.map((f) => f.name));
      for (const field of fields) {
        const avroField = avroSchema.fields.find((f) => f.name === field.name);
        const avroOptional =
          Array.isArray(avroField?.type) && avroField.type[0] === "null" && avroField.default === null;
        expect(avroOptional, `${field.name} optional in Avro`).toBe(field.optional);
        expect(jsonSchema.required.includes(field.name), `${field.name} required in JSON`).toBe(
          !field.optional,
        );
        expect(avroField?.doc).toContain(field.description);
        if (field.unit !== undefined) expect(avroField?.doc).toContain(field.unit);
      }
    },
  );

  it("takes the field list from the zod object, in definition order", () => {
    expect(readingFields(2).map((f) => f.name)).toEqual(Object.keys(readingSchema.shape));
    expect(readingFields(1).map((f) => f.name)).not.toContain("pressureHpa");
  });

  it("maps the timestamp to Avro long/timestamp-millis and numbers to double", () => {
    const byName = new Map(readingAvroSchema(2).fields.map((f) => [f.name, f.type]));
    expect(readingAvroSchema(2)).toMatchObject({
      type: "record",
      name: "WeatherReading",
      namespace: "weather",
    });
    expect(byName.get("observedAt")).toEqual({ type: "long", logicalType: "timestamp-millis" });
    expect(byName.get("temperatureC")).toBe("double");
    expect(byName.get("pressureHpa")).toEqual(["null", "double"]);
  });

  it("produces Avro schemas avsc accepts, with v1 data readable as v2 (pressureHpa null)", () => {
    const v1 = avro.Type.forSchema(readingAvroSchema(1) as avro.Schema);
    const v2 = avro.Type.forSchema(readingAvroSchema(2) as avro.Schema);
    const bytes = v1.toBuffer(toWireRecord(sampleReading(), "avro", 1));
    const record = v2.fromBuffer(bytes, v2.createResolver(v1));
    expect(fromWireRecord(record)).toEqual({ ok: true, reading: { ...sampleReading(), pressureHpa: null } });
  });

  it("produces JSON Schemas strict Ajv compiles without warnings and that accept encoded readings", () => {
    const warn = vi.spyOn(console, "warn");
    const ajv = new Ajv({ strict: true });
    const v1 = ajv.compile(readingJsonSchema(1));
    const v2 = ajv.compile(readingJsonSchema(2));
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();

    expect(v1(toWireRecord(sampleReading(), "json", 1))).toBe(true);
    expect(v2(toWireRecord(sampleReading({ pressureHpa: 1013.2 }), "json", 2))).toBe(true);
    expect(v2(toWireRecord(sampleReading(), "json", 2))).toBe(true);
    expect(v1({ ...toWireRecord(sampleReading(), "json", 1), extra: 1 })).toBe(false);
    expect(v1({ ...toWireRecord(sampleReading(), "json", 1), observedAt: "yesterday" })).toBe(false);
  });
});

describe("wire records", () => {
  it("writes the timestamp as millis for Avro and as ISO-8601 for JSON, and reads both back", () => {
    const reading = sampleReading();
    const avroRecord = toWireRecord(reading, "avro", 1);
    const jsonRecord = toWireRecord(reading, "json", 1);
    expect(avroRecord.observedAt).toBe(reading.observedAt.getTime());
    expect(jsonRecord.observedAt).toBe("2025-01-15T12:34:56.789Z");
    expect(fromWireRecord(avroRecord)).toEqual({ ok: true, reading: { ...reading, pressureHpa: null } });
    expect(fromWireRecord(jsonRecord)).toEqual({ ok: true, reading: { ...reading, pressureHpa: null } });
  });

  it("drops pressureHpa for v1 and writes null for an unset v2 pressure", () => {
    expect(toWireRecord(sampleReading({ pressureHpa: 1000 }), "avro", 1)).not.toHaveProperty("pressureHpa");
    expect(toWireRecord(sampleReading(), "avro", 2).pressureHpa).toBeNull();
  });

  it("names each structurally wrong field of a decoded record", () => {
    const result = fromWireRecord({
      ...toWireRecord(sampleReading(), "json", 1),
      temperatureC: "cold",
      observedAt: "soon",
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      expect.stringMatching(/^observedAt: got "soon"/),
      expect.stringMatching(/^temperatureC: got "cold"; expected a finite number/),
    ]);
  });
});
