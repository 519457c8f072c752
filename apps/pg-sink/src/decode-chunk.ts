import { CopyRows } from "@weather/db";
import type { ReadingReader, ReadingVisitor } from "@weather/schema";
import type { KafkaMessage } from "kafkajs";
import { type CityTableSet, type CityTables, saysATableIsMissing } from "./city-tables.ts";
import type { TopicPartition } from "./offsets.ts";
import { DependencyUnavailableError } from "./outage.ts";
import {
  EmptyValueError,
  MissingCityTableError,
  type PoisonError,
  type PoisonMessage,
  poisonOf,
} from "./poison.ts";

/**
 * Step 1's answer for a chunk of one partition's messages, decided before its transaction: each
 * message is a binary COPY row or poison. No object per message: the rows are written back to
 * back into one buffer, and the transaction sends a slice of it as it is.
 */
export interface DecodedChunk {
  readonly source: TopicPartition;
  /** In offset order. */
  readonly messages: readonly KafkaMessage[];
  /**
   * The rows of the readings to store, in offset order: message i's row is
   * rows[rowStart[i], rowStart[i + 1]), empty for poison, so the rows of any suffix of the chunk
   * are one slice.
   */
  readonly rows: Buffer;
  /** messages.length + 1 entries. */
  readonly rowStart: Int32Array;
  /** The messages that cannot be stored, in offset order, and why. */
  readonly poison: readonly PoisonMessage[];
  /** How many readings the fast path read (the rest went through the general decoder). */
  readonly fastRows: number;
  /** The city tables the chunk was decided against. */
  readonly tables: CityTableSet;
}

/** What is left of a decoded chunk from message `first` on. */
export interface ChunkPart {
  /** One slice of the chunk's rows. */
  readonly rows: Buffer;
  readonly rowCount: number;
  readonly poison: readonly PoisonMessage[];
}

/** The rows and poison of the chunk's messages from `first` on (planChunk drops the ones already stored). */
export function chunkPartFrom(chunk: DecodedChunk, first: number): ChunkPart {
  const poison = first === 0 ? chunk.poison : chunk.poison.filter((p) => p.index >= first);
  return {
    rows: chunk.rows.subarray(chunk.rowStart[first]),
    rowCount: chunk.messages.length - first - poison.length,
    poison,
  };
}

export interface ChunkDecoder {
  /**
   * Decides what each message is: a reading to store, or poison (no value, not a reading, an
   * unknown schema, implausible values, no table for its city).
   * @throws DependencyUnavailableError while the registry does not answer, and PostgreSQL's error
   *   while it cannot say which city tables exist: the chunk is retried as a whole.
   */
  decode(source: TopicPartition, messages: readonly KafkaMessage[]): Promise<DecodedChunk>;
  /**
   * The chunk decided again, when writing it failed with `error` because PostgreSQL found no table
   * for one of its rows and the city tables are no longer those it was decided against (one was
   * dropped); undefined when `error` is about something else.
   */
  decideAgain(chunk: DecodedChunk, error: unknown): Promise<DecodedChunk | undefined>;
}

/** Bytes a row takes, about: sizing the buffer once instead of growing it. */
const ROW_BYTES_ESTIMATE = 160;

/** What the reader found in a chunk, before any city table is looked at: every reading's row. */
interface ReadChunk {
  readonly source: TopicPartition;
  readonly messages: readonly KafkaMessage[];
  readonly rows: Buffer;
  readonly rowStart: Int32Array;
  /** Per message, its reading's city and station; undefined for the reader's poison. */
  readonly cities: readonly (string | undefined)[];
  readonly stationIds: readonly (string | undefined)[];
  /** What the reader refused, in offset order. */
  readonly poison: readonly PoisonMessage[];
  readonly fastRows: number;
}

function poisonMessage(read: Pick<ReadChunk, "messages">, index: number, error: PoisonError): PoisonMessage {
  return { index, message: read.messages[index] as KafkaMessage, poison: poisonOf(error) };
}

/**
 * The chunk as stored against `known`: the readings of a city without a table become poison
 * ("no-table") and their rows are left out. `homeless` counts them.
 */
function decide(read: ReadChunk, known: CityTableSet): { chunk: DecodedChunk; homeless: number } {
  const { source, messages, cities, fastRows } = read;
  const count = messages.length;
  let homeless = 0;
  let lastCity: string | undefined;
  for (let i = 0; i < count; i++) {
    const city = cities[i];
    if (city === undefined || city === lastCity) continue;
    if (known.has(city)) lastCity = city;
    else homeless += 1;
  }
  if (homeless === 0) {
    const { rows, rowStart, poison } = read;
    return { chunk: { source, messages, rows, rowStart, poison, fastRows, tables: known }, homeless };
  }
  // Rare (a city bootstrap has not made): the rows again, without those of such cities.
  const rows = Buffer.allocUnsafe(read.rows.length);
  const rowStart = new Int32Array(count + 1);
  const poison: PoisonMessage[] = [];
  let length = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    rowStart[i] = length;
    const city = cities[i];
    if (city === undefined) {
      poison.push(read.poison[refused++] as PoisonMessage);
    } else if (!known.has(city)) {
      poison.push(poisonMessage(read, i, new MissingCityTableError(city, read.stationIds[i] as string)));
    } else {
      length += read.rows.copy(rows, length, read.rowStart[i], read.rowStart[i + 1]);
    }
  }
  rowStart[count] = length;
  const chunk = {
    source,
    messages,
    rows: rows.subarray(0, length),
    rowStart,
    poison,
    fastRows,
    tables: known,
  };
  return { chunk, homeless };
}

/**
 * Decodes with `reader` (fast where it can, the general decoder otherwise; see createReadingReader)
 * and stores a reading only where `tables` has its city's table. Every kind of poison is made here.
 * The registry is asked before PostgreSQL, and a chunk decided again for the tables reads nothing again.
 */
export function createChunkDecoder(reader: ReadingReader, tables: CityTables): ChunkDecoder {
  const topics = new Map<string, Uint8Array>();
  /** What each decided chunk was read as, for deciding it again. */
  const readOf = new WeakMap<DecodedChunk, ReadChunk>();

  function topicBytesOf(topic: string): Uint8Array {
    let bytes = topics.get(topic);
    if (bytes === undefined) {
      bytes = new TextEncoder().encode(topic);
      topics.set(topic, bytes);
    }
    return bytes;
  }

  async function readChunk(source: TopicPartition, messages: readonly KafkaMessage[]): Promise<ReadChunk> {
    const topic = topicBytesOf(source.topic);
    const { partition } = source;
    const count = messages.length;
    const rows = new CopyRows(count * (ROW_BYTES_ESTIMATE + topic.length) + 1024);
    const rowStart = new Int32Array(count + 1);
    const cities: (string | undefined)[] = new Array(count).fill(undefined);
    const stationIds: (string | undefined)[] = new Array(count).fill(undefined);
    const poison: PoisonMessage[] = [];
    const read = { messages };
    const visitor: ReadingVisitor = {
      slots(index, slots) {
        rowStart[index] = rows.length;
        cities[index] = slots.station.city;
        stationIds[index] = slots.station.id;
        rows.appendSlots(slots, topic, partition, (messages[index] as KafkaMessage).offset);
      },
      reading(index, reading) {
        rowStart[index] = rows.length;
        cities[index] = reading.city;
        stationIds[index] = reading.stationId;
        rows.appendReading(reading, topic, partition, (messages[index] as KafkaMessage).offset);
      },
      rejected(index, error) {
        rowStart[index] = rows.length;
        poison.push(poisonMessage(read, index, error));
      },
      empty(index) {
        rowStart[index] = rows.length;
        poison.push(poisonMessage(read, index, new EmptyValueError()));
      },
    };
    let fastRows: number;
    try {
      fastRows = await reader.readAll(messages, visitor);
    } catch (error) {
      // Only bad input becomes poison; a registry that does not answer is an outage, so the chunk
      // is retried instead of dead-lettered for a problem that is not its own.
      throw new DependencyUnavailableError("schema registry", error);
    }
    rowStart[count] = rows.length;
    return { source, messages, rows: rows.bytes(), rowStart, cities, stationIds, poison, fastRows };
  }

  function decided(read: ReadChunk, known: CityTableSet): { chunk: DecodedChunk; homeless: number } {
    const result = decide(read, known);
    readOf.set(result.chunk, read);
    return result;
  }

  return {
    async decode(source, messages) {
      const read = await readChunk(source, messages);
      const known = await tables.current();
      const first = decided(read, known);
      if (first.homeless === 0) return first.chunk;
      // Bootstrap may have made a city's table since the last look: look again before
      // dead-lettering its readings.
      const now = await tables.refresh();
      return now.sameAs(known) ? first.chunk : decided(read, now).chunk;
    },
    async decideAgain(chunk, error) {
      const read = readOf.get(chunk);
      if (read === undefined || !saysATableIsMissing(error)) return undefined;
      const now = await tables.refresh();
      return now.sameAs(chunk.tables) ? undefined : decided(read, now).chunk;
    },
  };
}
