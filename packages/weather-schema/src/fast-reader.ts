import { type SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import avro from "avsc";
import { readingAvroSchema } from "./avro.ts";
import type { StationCatalog } from "./catalog.ts";
import { type ReadingField, readingFields } from "./fields.ts";
import {
  LATEST_READING_SCHEMA_VERSION,
  MAX_FUTURE_SKEW_MS,
  READING_SCHEMA_VERSIONS,
  type ReadingFieldName,
  type ReadingSchemaVersion,
} from "./reading.ts";
import type { Station } from "./stations.ts";
import { MAGIC_BYTE, WIRE_HEADER_LENGTH } from "./wire.ts";

/**
 * The reading's numeric fields in the newest version, in definition order: the order of
 * ReadingSlots.numbers. Every older version's numbers are a prefix of it (fields are only added).
 */
export const READING_NUMBER_FIELDS: readonly ReadingFieldName[] = Object.freeze(
  readingFields(LATEST_READING_SCHEMA_VERSION)
    .filter((field) => field.kind === "number")
    .map((field) => field.name),
);

/**
 * One reading as the fast reader leaves it: reusable slots instead of a new object per message,
 * overwritten by every successful read. stationId and city are the catalog station's own.
 */
export interface ReadingSlots {
  /** The readingId's 16 bytes. */
  readonly readingId: Uint8Array;
  station: Station;
  observedAtMs: number;
  /** By READING_NUMBER_FIELDS; meaningless where `isNull` is 1. */
  readonly numbers: Float64Array;
  readonly isNull: Uint8Array;
}

export function createReadingSlots(): ReadingSlots {
  return {
    readingId: new Uint8Array(16),
    station: undefined as unknown as Station,
    observedAtMs: 0,
    numbers: new Float64Array(READING_NUMBER_FIELDS.length),
    isNull: new Uint8Array(READING_NUMBER_FIELDS.length),
  };
}

/**
 * Reads the Avro messages of the reading's own versions straight into ReadingSlots and validates
 * them on the way, without the general decoder (avsc's resolver, a record object, zod). It only
 * vouches for what it fully understands: a schema id whose writer schema is, in Avro's canonical
 * form, exactly one of the reading's versions, and values that validateReading would accept.
 * Everything else (other schemas, JSON, a value out of range, a byte it does not expect) is
 * answered `false`, and the caller decodes that message with createReadingDecoder, which
 * stores it or says exactly why not. So the fast path can make a message faster, never different.
 */
export interface FastReadingReader {
  /**
   * Learns the writer schemas of the schema ids in these messages (once per id; an id the registry
   * did not answer for is asked again next time). Never throws: an id it could not learn is read
   * by the general decoder, which reports the registry's state itself.
   */
  prepare(messages: readonly { readonly value: Buffer | null }[]): Promise<void>;
  /**
   * Whether `bytes` name a schema id this reader has not learned yet (prepare would ask the
   * registry about it): a message it answered false for only because of that.
   */
  unlearned(bytes: Buffer): boolean;
  /**
   * Reads one Confluent-framed value into `slots`; false when the fast path cannot vouch for it.
   * `nowMs` is the clock for the future-skew check: take it before the messages' general decode,
   * so this check is never more lenient than validateReading's.
   */
  read(bytes: Buffer, slots: ReadingSlots, nowMs: number): boolean;
}

/** The Parsing Canonical Form of an Avro schema (avsc's schema() drops docs, defaults, logical types). */
export function avroCanonicalForm(type: avro.Type): string {
  return JSON.stringify(type.schema());
}

// Steps of a compiled version, one per field in wire order.
const UUID = 0;
const STATION_ID = 1;
const CITY = 2;
const TIMESTAMP = 3;
const NUMBER = 4;
const NULLABLE_NUMBER = 5;

interface Step {
  readonly op: number;
  /** NUMBER, NULLABLE_NUMBER: index into ReadingSlots.numbers. */
  readonly slot: number;
  readonly min: number;
  readonly max: number;
}

interface Program {
  readonly steps: readonly Step[];
  /** Number slots the writer version lacks: null, as Avro's resolution makes them. */
  readonly absentSlots: readonly number[];
}

/**
 * The widest span of epoch milliseconds the fast path takes (about 1684 to 2255): microseconds
 * since 2000 stay exact in a double there. Others go the general way.
 */
const FAST_TIMESTAMP_LIMIT_MS = 9_000_000_000_000;

/**
 * Compiles a version's fields into steps, or undefined when a field is of a shape the steps do not
 * cover (a new field kind, a third string field): that version is then read the general way until
 * this file learns it.
 */
function compile(version: ReadingSchemaVersion): Program | undefined {
  const steps: Step[] = [];
  const range = (field: ReadingField) => ({
    min: field.min ?? Number.NEGATIVE_INFINITY,
    max: field.max ?? Number.POSITIVE_INFINITY,
  });
  for (const field of readingFields(version)) {
    const numberSlot = READING_NUMBER_FIELDS.indexOf(field.name);
    if (field.kind === "uuid" && !field.optional) steps.push({ op: UUID, slot: -1, min: 0, max: 0 });
    else if (field.kind === "timestamp" && !field.optional)
      steps.push({ op: TIMESTAMP, slot: -1, min: 0, max: 0 });
    else if (field.kind === "string" && field.name === "stationId" && !field.optional)
      steps.push({ op: STATION_ID, slot: -1, min: 0, max: 0 });
    else if (field.kind === "string" && field.name === "city" && !field.optional)
      steps.push({ op: CITY, slot: -1, min: 0, max: 0 });
    else if (field.kind === "number")
      steps.push({ op: field.optional ? NULLABLE_NUMBER : NUMBER, slot: numberSlot, ...range(field) });
    else return undefined;
  }
  const ops = steps.map((s) => s.op);
  // The city check needs the station first, and every reading has exactly one of each of these.
  const once = [UUID, STATION_ID, CITY, TIMESTAMP].every((op) => ops.filter((o) => o === op).length === 1);
  if (!once || ops.indexOf(STATION_ID) > ops.indexOf(CITY)) return undefined;
  const present = new Set(steps.map((s) => s.slot));
  const absentSlots = READING_NUMBER_FIELDS.map((_, slot) => slot).filter((slot) => !present.has(slot));
  return { steps, absentSlots };
}

/** Each known version's compiled steps, by its Avro canonical form. */
const PROGRAMS: ReadonlyMap<string, Program> = new Map(
  READING_SCHEMA_VERSIONS.flatMap((version) => {
    const program = compile(version);
    const type = avro.Type.forSchema(readingAvroSchema(version) as avro.Schema);
    return program === undefined ? [] : [[avroCanonicalForm(type), program] as const];
  }),
);

/** The versions the fast path reads (a test holds that it is every version). */
export function fastReadableVersions(): ReadingSchemaVersion[] {
  return READING_SCHEMA_VERSIONS.filter((version) => {
    const type = avro.Type.forSchema(readingAvroSchema(version) as avro.Schema);
    return PROGRAMS.has(avroCanonicalForm(type));
  });
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}
/** Where the 32 hex digits of a 36-character UUID are. */
const UUID_DIGITS = Int8Array.from(
  Array.from({ length: 36 }, (_, i) => i).filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23),
);

interface StationBytes {
  readonly station: Station;
  readonly id: Uint8Array;
  readonly city: Uint8Array;
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

function sameBytes(bytes: Uint8Array, start: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

export function createFastReadingReader(
  registry: SchemaRegistry,
  catalog: StationCatalog,
): FastReadingReader {
  // A station is found by a hash of its id's bytes, then compared byte for byte: no string per message.
  const stations = new Map<number, StationBytes[]>();
  for (const station of catalog.stations) {
    const entry = {
      station,
      id: new TextEncoder().encode(station.id),
      city: new TextEncoder().encode(station.city),
    };
    const hash = hashBytes(entry.id, 0, entry.id.length);
    stations.set(hash, [...(stations.get(hash) ?? []), entry]);
  }
  /** Per schema id: its program, or null when it is not a version the fast path reads. */
  const programs = new Map<number, Program | null>();
  const learning = new Map<number, Promise<void>>();

  async function learn(schemaId: number): Promise<void> {
    try {
      await registry.getSchema(schemaId);
      const writer = registry.cache.getSchema(schemaId);
      const schema = writer?.schema;
      const program =
        writer?.type === SchemaType.AVRO && avro.Type.isType(schema)
          ? PROGRAMS.get(avroCanonicalForm(schema as unknown as avro.Type))
          : undefined;
      // A schema id's content never changes in a registry, so the answer is kept for good.
      programs.set(schemaId, program ?? null);
    } catch {
      // Unknown id, registry away: the general decoder asks again and says which it is.
    }
  }

  // Reader state for one message, kept here rather than in an object per message.
  let bytes: Buffer = Buffer.alloc(0);
  let pos = 0;
  let end = 0;
  let station: StationBytes | undefined;

  /** An Avro long (zigzag varint) of at most 53 bits, or NaN. */
  function readLong(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= end) return Number.NaN;
      const b = bytes[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) return Number.NaN;
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      scale *= 128;
    }
    return Number.NaN;
  }

  /** The byte length of an Avro string/bytes at pos (pos moves past the length), or -1. */
  function readLength(): number {
    const length = readLong();
    return length >= 0 && length <= end - pos ? length : -1;
  }

  function readUuid(out: Uint8Array): boolean {
    if (readLength() !== 36) return false;
    const at = pos;
    if (bytes[at + 8] !== 45 || bytes[at + 13] !== 45 || bytes[at + 18] !== 45 || bytes[at + 23] !== 45)
      return false;
    for (let k = 0; k < 16; k++) {
      const high = HEX[bytes[at + (UUID_DIGITS[2 * k] as number)] as number] as number;
      const low = HEX[bytes[at + (UUID_DIGITS[2 * k + 1] as number)] as number] as number;
      if ((high | low) < 0) return false;
      out[k] = (high << 4) | low;
    }
    pos += 36;
    // RFC 9562 as zod's z.uuid() has it: version 1-8, variant 10xx. (Its nil and max UUIDs go the general way.)
    const version = (out[6] as number) >> 4;
    return version >= 1 && version <= 8 && (out[8] as number) >> 6 === 2;
  }

  function readStation(): boolean {
    const length = readLength();
    if (length <= 0) return false;
    const candidates = stations.get(hashBytes(bytes, pos, pos + length));
    if (candidates === undefined) return false;
    for (const candidate of candidates) {
      if (candidate.id.length === length && sameBytes(bytes, pos, candidate.id)) {
        station = candidate;
        pos += length;
        return true;
      }
    }
    return false;
  }

  function readCity(): boolean {
    const length = readLength();
    if (station === undefined || length !== station.city.length || !sameBytes(bytes, pos, station.city))
      return false;
    pos += length;
    return true;
  }

  function readDouble(step: Step, slots: ReadingSlots): boolean {
    if (end - pos < 8) return false;
    const value = bytes.readDoubleLE(pos);
    pos += 8;
    // NaN fails both comparisons, ±Infinity lies outside every range: z.number()'s finite check.
    if (!(value >= step.min && value <= step.max)) return false;
    slots.numbers[step.slot] = value;
    slots.isNull[step.slot] = 0;
    return true;
  }

  function run(program: Program, slots: ReadingSlots, nowMs: number): boolean {
    for (const step of program.steps) {
      switch (step.op) {
        case UUID:
          if (!readUuid(slots.readingId)) return false;
          break;
        case STATION_ID:
          if (!readStation()) return false;
          break;
        case CITY:
          if (!readCity()) return false;
          break;
        case TIMESTAMP: {
          const ms = readLong();
          // NaN fails too. Past MAX_FUTURE_SKEW_MS is invalid; the general decoder says so.
          if (!(ms >= -FAST_TIMESTAMP_LIMIT_MS && ms <= FAST_TIMESTAMP_LIMIT_MS)) return false;
          if (ms - nowMs > MAX_FUTURE_SKEW_MS) return false;
          slots.observedAtMs = ms;
          break;
        }
        case NUMBER:
          if (!readDouble(step, slots)) return false;
          break;
        case NULLABLE_NUMBER: {
          // The union ["null", "double"]: branch 0 is null, branch 1 a double.
          if (pos >= end) return false;
          const branch = bytes[pos++];
          if (branch === 0) slots.isNull[step.slot] = 1;
          else if (branch !== 2 || !readDouble(step, slots)) return false;
          break;
        }
      }
    }
    for (const slot of program.absentSlots) slots.isNull[slot] = 1;
    slots.station = (station as StationBytes).station;
    // avsc rejects trailing bytes as well.
    return pos === end;
  }

  const reader: FastReadingReader = {
    async prepare(messages) {
      const pending: Promise<void>[] = [];
      let last = -1;
      for (const { value } of messages) {
        if (value === null || value.length < WIRE_HEADER_LENGTH || value[0] !== MAGIC_BYTE) continue;
        const schemaId = value.readInt32BE(1);
        if (schemaId === last || programs.has(schemaId)) continue;
        last = schemaId;
        let promise = learning.get(schemaId);
        if (promise === undefined) {
          promise = learn(schemaId).finally(() => learning.delete(schemaId));
          learning.set(schemaId, promise);
        }
        pending.push(promise);
      }
      await Promise.all(pending);
    },
    unlearned(value) {
      return (
        value.length >= WIRE_HEADER_LENGTH && value[0] === MAGIC_BYTE && !programs.has(value.readInt32BE(1))
      );
    },
    read(value, slots, nowMs) {
      if (value.length < WIRE_HEADER_LENGTH || value[0] !== MAGIC_BYTE) return false;
      const program = programs.get(value.readInt32BE(1));
      if (program === undefined || program === null) return false;
      bytes = value;
      pos = WIRE_HEADER_LENGTH;
      end = value.length;
      station = undefined;
      const ok = run(program, slots, nowMs);
      bytes = EMPTY;
      return ok;
    },
  };
  return Object.freeze(reader);
}

const EMPTY = Buffer.alloc(0);
