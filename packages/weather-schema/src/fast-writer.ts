import { type ReadingField, readingFields } from "./fields.ts";
import type { ReadingSchemaVersion, WeatherReading } from "./reading.ts";
import { MAGIC_BYTE, WIRE_HEADER_LENGTH } from "./wire.ts";

/**
 * Writes readings in the Confluent wire format (magic byte, schema id, Avro payload) straight into
 * a shared buffer, without the registry client's work per message: a record object
 * (toWireRecord), avsc's toBuffer into a buffer of its own, and Buffer.concat with the header:
 * about 30 % of sensor-producer's CPU in a backfill once kafkajs's encoding was fixed.
 *
 * It only writes what it can vouch for byte for byte, which is what a producer's readings are:
 * strings of ASCII characters shorter than 64 (a UUID, a station id, a city slug), a Date with
 * whole milliseconds, numbers, and null or a number for optional numbers. Anything else (a non-ASCII
 * station id, a missing field, a value of the wrong type) is answered undefined, and the caller
 * encodes that reading with the general encoder, which writes it or says exactly why not. So the
 * fast path makes a message faster, never different (fast-writer.test.ts holds it to the registry
 * client's bytes).
 */
export interface FastReadingWriter {
  /**
   * The Confluent-framed Avro bytes of `reading`, or undefined when this path cannot vouch for
   * them. The bytes are a view into a buffer shared with other readings written before and after:
   * read them, send them, never write to them.
   */
  write(reading: WeatherReading): Buffer | undefined;
}

// Steps, one per field in wire order.
const STRING = 0;
const TIMESTAMP = 1;
const DOUBLE = 2;
const NULLABLE_DOUBLE = 3;

interface Step {
  readonly op: number;
  readonly name: ReadingField["name"];
}

/** Strings this path writes: their length then fits Avro's one-byte zigzag varint. */
const MAX_STRING_LENGTH = 63;
/** Bytes one field may take at most: a string's length byte and 63 ASCII bytes. */
const MAX_FIELD_BYTES = 1 + MAX_STRING_LENGTH;
/** Readings are written into buffers of this size, a new one when the rest is too small for the next. */
const SLAB_BYTES = 64 * 1024;

function stepOf(field: ReadingField): Step | undefined {
  const { name } = field;
  if ((field.kind === "uuid" || field.kind === "string") && !field.optional) return { op: STRING, name };
  if (field.kind === "timestamp" && !field.optional) return { op: TIMESTAMP, name };
  if (field.kind === "number") return { op: field.optional ? NULLABLE_DOUBLE : DOUBLE, name };
  // A field shape this file does not know yet: the version is written the general way.
  return undefined;
}

/**
 * The writer of one schema version under one schema id, or undefined when a field of that version
 * has a shape the steps do not cover (the caller then always uses the general encoder). Only for
 * Avro, and only when the registry's schema under `schemaId` is this version's (the caller checks
 * their canonical forms).
 */
export function createFastReadingWriter(
  schemaId: number,
  version: ReadingSchemaVersion,
): FastReadingWriter | undefined {
  const steps: Step[] = [];
  for (const field of readingFields(version)) {
    const step = stepOf(field);
    if (step === undefined) return undefined;
    steps.push(step);
  }
  const maxBytes = WIRE_HEADER_LENGTH + steps.length * MAX_FIELD_BYTES;
  let slab = Buffer.allocUnsafe(0);
  let used = 0;

  return {
    write(reading) {
      if (slab.length - used < maxBytes) {
        // Views into the old slab keep it alive until the last of them is sent and dropped.
        slab = Buffer.allocUnsafe(SLAB_BYTES);
        used = 0;
      }
      const start = used;
      const end = writeFields(steps, reading as unknown as Record<string, unknown>, slab, start, schemaId);
      if (end < 0) return undefined;
      used = end;
      return slab.subarray(start, end);
    },
  };
}

/** Writes the header and the fields at `at`; the end, or -1 when a value is outside this path. */
function writeFields(
  steps: readonly Step[],
  reading: Record<string, unknown>,
  target: Buffer,
  start: number,
  schemaId: number,
): number {
  target[start] = MAGIC_BYTE;
  target.writeInt32BE(schemaId, start + 1);
  let at = start + WIRE_HEADER_LENGTH;
  for (const step of steps) {
    const value = reading[step.name];
    switch (step.op) {
      case STRING: {
        if (typeof value !== "string") return -1;
        at = writeAsciiString(value, target, at);
        if (at < 0) return -1;
        break;
      }
      case TIMESTAMP: {
        // As toWireRecord does: a Date's epoch milliseconds (timestamp-millis is a long).
        if (!(value instanceof Date)) return -1;
        const ms = value.getTime();
        if (!Number.isSafeInteger(ms)) return -1;
        at = writeLong(ms, target, at);
        break;
      }
      case DOUBLE: {
        if (typeof value !== "number") return -1;
        at = target.writeDoubleLE(value, at);
        break;
      }
      case NULLABLE_DOUBLE: {
        // The union ["null", "double"]: branch 0 (zigzag 0) for null or absent, branch 1 (zigzag 2).
        if (value === null || value === undefined) target[at++] = 0;
        else if (typeof value === "number") {
          target[at++] = 2;
          at = target.writeDoubleLE(value, at);
        } else return -1;
        break;
      }
    }
  }
  return at;
}

/** Avro's string: zigzag length (one byte below 64), then the bytes, here all ASCII; -1 otherwise. */
function writeAsciiString(value: string, target: Buffer, at: number): number {
  const length = value.length;
  if (length > MAX_STRING_LENGTH) return -1;
  target[at++] = length << 1;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return -1;
    target[at++] = code;
  }
  return at;
}

/**
 * Avro's long as avsc writes it (Tap.writeLong): zigzag varint, in integer arithmetic where it
 * cannot overflow, in floating point beyond (exact for safe integers).
 */
function writeLong(n: number, target: Buffer, at: number): number {
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      target[at++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    target[at++] = m;
    return at;
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  while (f >= 128) {
    target[at++] = (f % 128) | 0x80;
    f = Math.floor(f / 128);
  }
  target[at++] = f;
  return at;
}
