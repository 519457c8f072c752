import { type SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import type { RegistryClient } from "@weather/service-kit";
import avro from "avsc";
import { readingAvroSchema } from "./avro.ts";
import type { StationCatalog } from "./catalog.ts";
import { ReadingDecodeError } from "./decode-error.ts";
import { avroCanonicalForm } from "./fast-reader.ts";
import { createFastReadingWriter, type FastReadingWriter } from "./fast-writer.ts";
import { LATEST_READING_SCHEMA_VERSION, type ReadingSchemaVersion, type WeatherReading } from "./reading.ts";
import { ensureReadingSchema, statusOf, subjectOf } from "./register.ts";
import { validateReading } from "./validate.ts";
import { MAGIC_BYTE, readWireHeader, WIRE_HEADER_LENGTH } from "./wire.ts";
import { fromWireRecord, toWireRecord, type WireFormat } from "./wire-record.ts";

export interface ReadingEncoder {
  readonly schemaId: number;
  readonly format: WireFormat;
  readonly version: ReadingSchemaVersion;
  readonly subject: string;
  /** Confluent wire format bytes; rejects a reading that does not fit the schema's structure. */
  encode(reading: WeatherReading): Promise<Buffer>;
  /**
   * The bytes encode() gives for each reading, in order; rejects at the first that does not fit.
   * Avro readings are written by the fast writer where it can vouch for them (createFastReadingWriter):
   * the buffers are then views into shared ones, to be sent, never written to.
   */
  encodeAll(readings: readonly WeatherReading[]): Promise<Buffer[]>;
}

export interface ReadingEncoderOptions {
  /** The schema version to write; 1 unless evolving (2 adds pressureHpa). */
  readonly version?: ReadingSchemaVersion;
}

/**
 * An encoder for one topic and format. It looks the schema version up in the topic's subject and
 * registers it when absent, so a producer started before bootstrap still works.
 * @throws SchemaRegistrationError when the registry is unreachable or refuses the version.
 */
export async function createReadingEncoder(
  registry: RegistryClient,
  topic: string,
  format: WireFormat,
  options: ReadingEncoderOptions = {},
): Promise<ReadingEncoder> {
  const version = options.version ?? 1;
  const subject = subjectOf(topic, format);
  const { id } = await ensureReadingSchema(registry, subject, format, version);
  const fast = format === "avro" ? await fastWriterFor(registry.client, id, version) : undefined;
  const encoder: ReadingEncoder = Object.freeze({
    schemaId: id,
    format,
    version,
    subject,
    async encodeAll(readings: readonly WeatherReading[]): Promise<Buffer[]> {
      const encoded: Buffer[] = new Array(readings.length);
      for (let i = 0; i < readings.length; i++) {
        const reading = readings[i] as WeatherReading;
        encoded[i] = fast?.write(reading) ?? (await encoder.encode(reading));
      }
      return encoded;
    },
    async encode(reading: WeatherReading): Promise<Buffer> {
      try {
        // The client validates the record against the schema and writes the wire header.
        return await registry.client.encode(id, toWireRecord(reading, format, version));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const paths =
          typeof error === "object" && error !== null && "paths" in error ? error.paths : undefined;
        throw new Error(
          `cannot encode reading ${String(reading.readingId)} as ${format} (schema ${id}, v${version}): ${reason}` +
            (paths === undefined ? "" : ` at ${JSON.stringify(paths)}`),
          { cause: error },
        );
      }
    },
  });
  return encoder;
}

/**
 * The fast writer for a schema id, when the registry's schema under it is, in Avro's canonical
 * form, exactly this version's: the bytes then depend on nothing else. Otherwise (a registry that
 * answers with something else) every reading goes through the registry client.
 */
async function fastWriterFor(
  registry: SchemaRegistry,
  schemaId: number,
  version: ReadingSchemaVersion,
): Promise<FastReadingWriter | undefined> {
  const registered = await registry.getSchema(schemaId);
  if (!avro.Type.isType(registered)) return undefined;
  const own = avro.Type.forSchema(readingAvroSchema(version) as avro.Schema);
  if (avroCanonicalForm(registered as unknown as avro.Type) !== avroCanonicalForm(own)) return undefined;
  return createFastReadingWriter(schemaId, version);
}

export interface ReadingDecoder {
  /**
   * The reading in a message of any registered version, Avro or JSON, as the newest version sees
   * it (pressureHpa null when the writer had no such field).
   * @throws ReadingDecodeError when the message is not a reading (dead-letter it, by `kind`);
   *   any other error (registry unreachable) means try again later.
   */
  decode(bytes: Buffer): Promise<WeatherReading>;
}

export interface ReadingDecoderOptions {
  /** When given, decoded readings are also validated against it (kind "invalid" on failure). */
  readonly catalog?: StationCatalog;
  /** The clock for the "not in the future" check; defaults to the system clock. */
  readonly now?: () => Date;
}

type PayloadReader = (payload: Buffer) => unknown;

const isJsonSyntaxError = (error: unknown) => error instanceof SyntaxError;

export function createReadingDecoder(
  registry: SchemaRegistry,
  options: ReadingDecoderOptions = {},
): ReadingDecoder {
  // The reader schema is the newest version: Avro's resolution fills fields an older writer lacked
  // with their defaults (null).
  const readerType = avro.Type.forSchema(readingAvroSchema(LATEST_READING_SCHEMA_VERSION) as avro.Schema);
  // One reader per schema id, kept for the decoder's lifetime: once a schema id was seen, decoding
  // it needs no registry (the client caches the schema too; this also keeps the Avro resolver).
  const readers = new Map<number, Promise<PayloadReader>>();

  async function fetchWriter(schemaId: number) {
    try {
      const schema = await registry.getSchema(schemaId);
      return { schema, type: registry.cache.getSchema(schemaId)?.type };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A 404 "Schema N not found" is about the message; any other failure is about the registry.
      if (statusOf(error) === 404 && /schema.*not found/i.test(reason)) {
        throw new ReadingDecodeError(
          "unknown-schema",
          `message names schema id ${schemaId}, which the registry does not have`,
          {
            schemaId,
            cause: error,
          },
        );
      }
      throw new Error(
        `cannot fetch schema ${schemaId} from the schema registry: ${reason}; is it up? run: pnpm stack up`,
        {
          cause: error,
        },
      );
    }
  }

  async function buildReader(schemaId: number): Promise<PayloadReader> {
    const writer = await fetchWriter(schemaId);
    if (writer.type === SchemaType.AVRO && avro.Type.isType(writer.schema)) {
      let resolver: avro.Resolver;
      try {
        resolver = readerType.createResolver(writer.schema as unknown as avro.Type);
      } catch (error) {
        throw new ReadingDecodeError(
          "incompatible-schema",
          `schema ${schemaId} is an Avro schema the reading cannot be read from: ${error instanceof Error ? error.message : String(error)}`,
          { schemaId, cause: error },
        );
      }
      return (payload) => readerType.fromBuffer(payload, resolver);
    }
    if (writer.type === SchemaType.JSON) {
      // The client's JSON schema parses and validates against the writer's JSON Schema.
      return (payload) => writer.schema.fromBuffer(payload);
    }
    throw new ReadingDecodeError(
      "incompatible-schema",
      `schema ${schemaId} is a ${writer.type ?? "unknown"} schema, not a reading`,
      {
        schemaId,
      },
    );
  }

  function readerFor(schemaId: number): Promise<PayloadReader> {
    let reader = readers.get(schemaId);
    if (reader === undefined) {
      reader = buildReader(schemaId);
      readers.set(schemaId, reader);
      // Forget failures, so a schema registered later or a registry back up is picked up.
      reader.catch(() => readers.delete(schemaId));
    }
    return reader;
  }

  return Object.freeze({
    async decode(bytes: Buffer): Promise<WeatherReading> {
      const header = readWireHeader(bytes);
      if (header === undefined || header.magicByte !== MAGIC_BYTE) {
        const what = header === undefined ? `only ${bytes.length} bytes` : `first byte ${header.magicByte}`;
        throw new ReadingDecodeError(
          "bad-magic-byte",
          `not Confluent wire format (${what}; expected magic byte ${MAGIC_BYTE} and a 4-byte schema id)`,
        );
      }
      const { schemaId } = header;
      const read = await readerFor(schemaId);

      let record: unknown;
      try {
        record = read(bytes.subarray(WIRE_HEADER_LENGTH));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const paths =
          typeof error === "object" && error !== null && "paths" in error ? error.paths : undefined;
        if (paths !== undefined && !isJsonSyntaxError(error)) {
          throw new ReadingDecodeError(
            "invalid",
            `payload does not match JSON schema ${schemaId}: ${JSON.stringify(paths)}`,
            {
              schemaId,
              problems: [`payload does not match JSON schema ${schemaId} at ${JSON.stringify(paths)}`],
              cause: error,
            },
          );
        }
        throw new ReadingDecodeError(
          "undecodable",
          `payload does not decode with schema ${schemaId}: ${reason}`,
          {
            schemaId,
            cause: error,
          },
        );
      }

      const mapped = fromWireRecord(record);
      if (!mapped.ok) {
        throw new ReadingDecodeError(
          "invalid",
          `schema ${schemaId} decoded no reading: ${mapped.problems.join("; ")}`,
          {
            schemaId,
            problems: mapped.problems,
          },
        );
      }
      if (options.catalog === undefined) return mapped.reading;
      const checked = validateReading(mapped.reading, options.catalog, options.now?.() ?? new Date());
      if (!checked.ok) {
        throw new ReadingDecodeError(
          "invalid",
          `implausible reading ${mapped.reading.readingId}: ${checked.problems.join("; ")}`,
          {
            schemaId,
            problems: checked.problems,
          },
        );
      }
      return checked.reading;
    },
  });
}
