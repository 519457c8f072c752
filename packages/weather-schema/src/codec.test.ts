import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { Ajv } from "ajv";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { sampleReading } from "../test/sample-reading.ts";
import { readingAvroSchema } from "./avro.ts";
import { createStationCatalog } from "./catalog.ts";
import { createReadingDecoder } from "./codec.ts";
import { ReadingDecodeError } from "./decode-error.ts";
import { readingJsonSchema } from "./json-schema.ts";
import type { ReadingSchemaVersion } from "./reading.ts";
import { DEFAULT_STATIONS } from "./stations.ts";
import { toWireRecord } from "./wire-record.ts";

// A real client pointed at a closed port: everything here runs from its schema cache, the state a
// decoder is in when the registry goes away after first use. Integration tests cover the real thing.
/** The client's schema interface (not exported by its index). */
type Schema = Parameters<SchemaRegistry["cache"]["setSchema"]>[2];

const AVRO_V1 = 11;
const AVRO_V2 = 12;
const JSON_V1 = 21;
const NOT_A_READING = 31;

function offlineRegistry(): SchemaRegistry {
  const registry = new SchemaRegistry({ host: "http://127.0.0.1:9", retry: { retries: 0 } });
  const avroType = (version: ReadingSchemaVersion) =>
    avro.Type.forSchema(readingAvroSchema(version) as avro.Schema) as unknown as Schema;
  registry.cache.setSchema(AVRO_V1, SchemaType.AVRO, avroType(1));
  registry.cache.setSchema(AVRO_V2, SchemaType.AVRO, avroType(2));
  registry.cache.setSchema(JSON_V1, SchemaType.JSON, jsonSchemaLikeTheClients(readingJsonSchema(1)));
  const other = avro.Type.forSchema({ type: "record", name: "Other", fields: [{ name: "x", type: "int" }] });
  registry.cache.setSchema(NOT_A_READING, SchemaType.AVRO, other as unknown as Schema);
  return registry;
}

/** What the client builds for a JSON schema: parse, then validate with Ajv, failing with `paths`. */
function jsonSchemaLikeTheClients(schema: object): Schema {
  const validate = new Ajv().compile(schema);
  const check = (payload: object) => {
    if (!validate(payload))
      throw Object.assign(new Error("invalid payload"), {
        paths: validate.errors?.map((e) => [e.instancePath]),
      });
  };
  return {
    toBuffer: (payload: object) => {
      check(payload);
      return Buffer.from(JSON.stringify(payload));
    },
    fromBuffer: (buffer: Buffer) => {
      const payload = JSON.parse(buffer.toString());
      check(payload);
      return payload;
    },
    isValid: (payload: object) => validate(payload),
  };
}

async function decodeError(promise: Promise<unknown>): Promise<ReadingDecodeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof ReadingDecodeError) return error;
  throw new Error(`expected a ReadingDecodeError, got ${String(error)}`);
}

describe("reading decoder", () => {
  const registry = offlineRegistry();
  const decoder = createReadingDecoder(registry);

  it("reads a v1 Avro message as the newest version, pressureHpa null", async () => {
    const bytes = await registry.encode(AVRO_V1, toWireRecord(sampleReading(), "avro", 1));
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(AVRO_V1);
    expect(await decoder.decode(bytes)).toEqual({ ...sampleReading(), pressureHpa: null });
  });

  it("keeps pressureHpa of a v2 Avro message", async () => {
    const reading = sampleReading({ pressureHpa: 1012.5 });
    const bytes = await registry.encode(AVRO_V2, toWireRecord(reading, "avro", 2));
    expect(await decoder.decode(bytes)).toEqual(reading);
  });

  it("reads a JSON message, turning the ISO timestamp back into a Date", async () => {
    const bytes = await registry.encode(JSON_V1, toWireRecord(sampleReading(), "json", 1));
    expect(JSON.parse(bytes.subarray(5).toString()).observedAt).toBe("2025-01-15T12:34:56.789Z");
    const decoded = await decoder.decode(bytes);
    expect(decoded.observedAt).toBeInstanceOf(Date);
    expect(decoded).toEqual({ ...sampleReading(), pressureHpa: null });
  });

  it("classifies bytes that are not wire format as bad-magic-byte", async () => {
    expect((await decodeError(decoder.decode(Buffer.from('{"json":"without header"}')))).kind).toBe(
      "bad-magic-byte",
    );
    expect((await decodeError(decoder.decode(Buffer.from([0, 0, 0])))).kind).toBe("bad-magic-byte");
  });

  it("classifies a payload that does not parse as undecodable", async () => {
    const bytes = await registry.encode(AVRO_V1, toWireRecord(sampleReading(), "avro", 1));
    const error = await decodeError(decoder.decode(bytes.subarray(0, bytes.length - 4)));
    expect(error).toMatchObject({ kind: "undecodable", schemaId: AVRO_V1 });
    const json = Buffer.concat([Buffer.from([0, 0, 0, 0, JSON_V1]), Buffer.from("{not json")]);
    expect((await decodeError(decoder.decode(json))).kind).toBe("undecodable");
  });

  it("classifies JSON that breaks its schema as invalid", async () => {
    const payload = { ...toWireRecord(sampleReading(), "json", 1), temperatureC: "warm" };
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, JSON_V1]), Buffer.from(JSON.stringify(payload))]);
    expect(await decodeError(decoder.decode(bytes))).toMatchObject({ kind: "invalid", schemaId: JSON_V1 });
  });

  it("classifies a schema that is not a reading as incompatible-schema", async () => {
    const bytes = await registry.encode(NOT_A_READING, { x: 1 });
    expect((await decodeError(decoder.decode(bytes))).kind).toBe("incompatible-schema");
  });

  it("does not turn an unreachable registry into a dead letter", async () => {
    const bytes = Buffer.from([0, 0, 0, 0, 99, 1, 2]);
    const error = await decoder.decode(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ReadingDecodeError);
    expect((error as Error).message).toMatch(/cannot fetch schema 99 from the schema registry/);
  });

  it("validates against the catalog when given one", async () => {
    const strict = createReadingDecoder(registry, {
      catalog: createStationCatalog(DEFAULT_STATIONS),
      now: () => new Date("2025-01-15T13:00:00Z"),
    });
    const ok = await registry.encode(AVRO_V1, toWireRecord(sampleReading(), "avro", 1));
    expect((await strict.decode(ok)).stationId).toBe("CYWG");
    const hot = await registry.encode(AVRO_V1, toWireRecord(sampleReading({ temperatureC: 57 }), "avro", 1));
    const error = await decodeError(strict.decode(hot));
    expect(error.kind).toBe("invalid");
    expect(error.problems).toEqual(["temperatureC: got 57; expected a finite number within -60..50 °C"]);
  });
});
