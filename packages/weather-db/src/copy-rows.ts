import {
  LATEST_READING_SCHEMA_VERSION,
  READING_NUMBER_FIELDS,
  type ReadingFieldName,
  type ReadingSlots,
  readingFields,
  type Station,
  type WeatherReading,
} from "@weather/schema";
import { getTableColumns } from "drizzle-orm";
import { weatherReadings } from "./tables.ts";

/**
 * Rows of weather_readings in PostgreSQL's binary COPY format, written straight from the fast
 * reader's slots or from a decoded reading (pg-sink's COPY; the bench's raw COPY of the same rows). Binary, not text: PostgreSQL then parses no numbers,
 * UUIDs or timestamps, and every value arrives bit for bit as it was sent (-0.0, subnormals and
 * all: a double is copied, never printed and parsed).
 * Format: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
 */

const TABLE = getTableColumns(weatherReadings);
const FIELDS = readingFields(LATEST_READING_SCHEMA_VERSION);

function columnOf(name: string): string {
  const column = (TABLE as Record<string, { name: string } | undefined>)[name];
  if (column === undefined) throw new Error(`weather_readings has no column for reading field ${name}`);
  return column.name;
}

// The row writers below follow the reading's fields in this order; a field they do not know fails
// here, at start-up (and in this module's unit test), rather than storing a row without it.
const EXPECTED_PREFIX: readonly [ReadingFieldName, string][] = [
  ["readingId", "uuid"],
  ["stationId", "string"],
  ["city", "string"],
  ["observedAt", "timestamp"],
];
for (const [index, field] of FIELDS.entries()) {
  const expected = EXPECTED_PREFIX[index];
  const ok =
    expected === undefined
      ? field.kind === "number" && READING_NUMBER_FIELDS[index - EXPECTED_PREFIX.length] === field.name
      : field.name === expected[0] && field.kind === expected[1];
  if (!ok)
    throw new Error(`copy-rows.ts does not know how to write reading field ${field.name} (${field.kind})`);
}

/** The COPY column list: every reading field, then where the row came from. */
export const COPY_COLUMNS: readonly string[] = Object.freeze([
  ...FIELDS.map((field) => columnOf(field.name)),
  TABLE.sourceTopic.name,
  TABLE.sourcePartition.name,
  TABLE.sourceOffset.name,
]);

/** "PGCOPY\n\377\r\n\0", no flags, no header extension. */
export const COPY_HEADER: Buffer = Buffer.concat([
  Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]),
  Buffer.alloc(8),
]);
/** A field count of -1 ends the data. */
export const COPY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

const PG_EPOCH_MS = 946_684_800_000;
/** Microseconds stay exact in a double up to 2^53; a larger span takes the BigInt way. */
const EXACT_MS_SPAN = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
const TWO_TO_THE_32 = 4_294_967_296;
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

interface StationBytes {
  readonly id: Uint8Array;
  readonly city: Uint8Array;
}
const stationBytes = new WeakMap<Station, StationBytes>();
const encoder = new TextEncoder();

function bytesOf(station: Station): StationBytes {
  let bytes = stationBytes.get(station);
  if (bytes === undefined) {
    bytes = { id: encoder.encode(station.id), city: encoder.encode(station.city) };
    stationBytes.set(station, bytes);
  }
  return bytes;
}

/** A growing buffer of binary COPY rows (no header or trailer: a chunk may send only some of them). */
export class CopyRows {
  private buffer: Buffer;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Bytes written so far: where the next row starts. */
  get length(): number {
    return this.pos;
  }

  /** The rows written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + bytes));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  private int16(value: number): void {
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  private int32(value: number): void {
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  /** An integer that is exact in a double, as int8. */
  private int64(value: number): void {
    const high = Math.floor(value / TWO_TO_THE_32);
    this.view.setInt32(this.pos, high);
    this.view.setUint32(this.pos + 4, value - high * TWO_TO_THE_32);
    this.pos += 8;
  }

  private bytesField(bytes: Uint8Array): void {
    this.int32(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private textField(text: string): void {
    const length = Buffer.byteLength(text);
    this.reserve(4 + length);
    this.int32(length);
    this.pos += this.buffer.write(text, this.pos, length, "utf8");
  }

  private float8Field(value: number): void {
    this.int32(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  private nullField(): void {
    this.int32(-1);
  }

  /** timestamptz: microseconds since 2000-01-01 UTC. */
  private timestampField(epochMs: number): void {
    this.int32(8);
    const sinceEpoch = epochMs - PG_EPOCH_MS;
    if (Math.abs(sinceEpoch) <= EXACT_MS_SPAN) {
      this.int64(sinceEpoch * 1000);
    } else {
      this.view.setBigInt64(this.pos, BigInt(sinceEpoch) * 1000n);
      this.pos += 8;
    }
  }

  /** Where the row came from: the topic's UTF-8 bytes, the partition, the offset as kafkajs gives it. */
  private sourceFields(topic: Uint8Array, partition: number, offset: string): void {
    this.reserve(4 + topic.length + 8 + 12);
    this.bytesField(topic);
    this.int32(4);
    this.int32(partition);
    this.int32(8);
    // Kafka offsets are int64; those below 2^53 (all in practice) parse exactly as a double.
    if (offset.length < 16) {
      this.int64(Number(offset));
    } else {
      this.view.setBigInt64(this.pos, BigInt(offset));
      this.pos += 8;
    }
  }

  /**
   * Appends the row of a reading the fast reader left in `slots`, from `topic` (its UTF-8 bytes,
   * encoded once per chunk), `partition` and `offset` (as kafkajs gives it).
   */
  appendSlots(slots: ReadingSlots, topic: Uint8Array, partition: number, offset: string): void {
    const station = bytesOf(slots.station);
    this.reserve(2 + 20 + 8 + station.id.length + station.city.length + 12 + 12 * slots.numbers.length);
    this.int16(COPY_COLUMNS.length);
    this.bytesField(slots.readingId);
    this.bytesField(station.id);
    this.bytesField(station.city);
    this.timestampField(slots.observedAtMs);
    for (let i = 0; i < slots.numbers.length; i++) {
      if (slots.isNull[i] === 1) this.nullField();
      else this.float8Field(slots.numbers[i] as number);
    }
    this.sourceFields(topic, partition, offset);
  }

  /** Appends the row of a reading the general decoder made (the source as for appendSlots). */
  appendReading(reading: WeatherReading, topic: Uint8Array, partition: number, offset: string): void {
    this.reserve(2 + 20 + 12 + 12 * READING_NUMBER_FIELDS.length);
    this.int16(COPY_COLUMNS.length);
    this.int32(16);
    writeUuid(reading.readingId, this.buffer, this.pos);
    this.pos += 16;
    this.textField(reading.stationId);
    this.textField(reading.city);
    this.reserve(12 + 12 * READING_NUMBER_FIELDS.length);
    this.timestampField(reading.observedAt.getTime());
    for (const name of READING_NUMBER_FIELDS) {
      const value = reading[name];
      if (typeof value === "number") this.float8Field(value);
      else this.nullField();
    }
    this.sourceFields(topic, partition, offset);
  }
}

/**
 * The 16 bytes of a validated UUID string (8-4-4-4-12 hex digits, either case), as PostgreSQL's
 * uuid input would store it.
 * @throws Error for anything else: validation let through what it should not have.
 */
function writeUuid(uuid: string, out: Buffer, at: number): void {
  let k = 0;
  for (let i = 0; i < uuid.length && k < 32; i++) {
    const code = uuid.charCodeAt(i);
    if (code === 45 && (i === 8 || i === 13 || i === 18 || i === 23)) continue;
    const digit = code < 128 ? (HEX[code] as number) : -1;
    if (digit < 0) break;
    if (k % 2 === 0) out[at + (k >> 1)] = digit << 4;
    else out[at + (k >> 1)] = (out[at + (k >> 1)] as number) | digit;
    k++;
  }
  if (k !== 32 || uuid.length !== 36) throw new Error(`readingId ${JSON.stringify(uuid)} is not a UUID`);
}
