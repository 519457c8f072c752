import { CopyRows } from "@weather/db";
import type {
  ReadingDecodeError,
  ReadingReader,
  ReadingSlots,
  ReadingVisitor,
  WeatherReading,
} from "@weather/schema";
import { DependencyUnavailableError } from "@weather/service-kit";
import type { KafkaMessage } from "kafkajs";
import { type CityTableSet, type CityTables, saysATableIsMissing } from "./city-tables.ts";
import type { TopicPartition } from "./offsets.ts";
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

/**
 * Writes what the reader tells into one chunk's rows and poison. Without `known` it keeps every
 * reading and notes the distinct cities; with it, the readings of a city without a table become
 * poison ("no-table") and their rows are left out.
 */
class ChunkWriter implements ReadingVisitor {
  readonly rows: CopyRows;
  readonly rowStart: Int32Array;
  readonly poison: PoisonMessage[] = [];
  /** The distinct cities of the readings kept. */
  readonly cities: string[] = [];
  private readonly messages: readonly KafkaMessage[];
  private readonly topic: Uint8Array;
  private readonly partition: number;
  private readonly known: CityTableSet | undefined;
  /** The city of the last reading kept: readings come in runs of a station, and a run is checked once. */
  private lastCity: string | undefined;

  constructor(
    messages: readonly KafkaMessage[],
    topic: Uint8Array,
    partition: number,
    known: CityTableSet | undefined,
  ) {
    this.messages = messages;
    this.topic = topic;
    this.partition = partition;
    this.known = known;
    this.rows = new CopyRows(messages.length * (ROW_BYTES_ESTIMATE + topic.length) + 1024);
    this.rowStart = new Int32Array(messages.length + 1);
  }

  slots(index: number, slots: ReadingSlots): void {
    this.rowStart[index] = this.rows.length;
    const { station } = slots;
    if (station.city !== this.lastCity && !this.keeps(index, station.city, station.id)) return;
    this.rows.appendSlots(slots, this.topic, this.partition, this.offsetOf(index));
  }

  reading(index: number, reading: WeatherReading): void {
    this.rowStart[index] = this.rows.length;
    if (reading.city !== this.lastCity && !this.keeps(index, reading.city, reading.stationId)) return;
    this.rows.appendReading(reading, this.topic, this.partition, this.offsetOf(index));
  }

  rejected(index: number, error: ReadingDecodeError): void {
    this.rowStart[index] = this.rows.length;
    this.refuse(index, error);
  }

  empty(index: number): void {
    this.rowStart[index] = this.rows.length;
    this.refuse(index, new EmptyValueError());
  }

  /** The chunk, once the reader told every message. */
  finish(source: TopicPartition, fastRows: number, tables: CityTableSet): DecodedChunk {
    this.rowStart[this.messages.length] = this.rows.length;
    const { messages, rowStart, poison } = this;
    return { source, messages, rows: this.rows.bytes(), rowStart, poison, fastRows, tables };
  }

  private keeps(index: number, city: string, stationId: string): boolean {
    if (this.known === undefined) {
      if (!this.cities.includes(city)) this.cities.push(city);
    } else if (!this.known.has(city)) {
      this.refuse(index, new MissingCityTableError(city, stationId));
      return false;
    }
    this.lastCity = city;
    return true;
  }

  private refuse(index: number, error: PoisonError): void {
    this.poison.push({ index, message: this.messages[index] as KafkaMessage, poison: poisonOf(error) });
  }

  private offsetOf(index: number): string {
    return (this.messages[index] as KafkaMessage).offset;
  }
}

/**
 * Decodes with `reader` (fast where it can, the general decoder otherwise; see createReadingReader)
 * and stores a reading only where `tables` has its city's table. Every kind of poison is made here.
 * The registry is asked before PostgreSQL: a chunk is read first and checked against the tables
 * after; only a chunk holding a city without a table is read a second time (from the reader's
 * caches), leaving those readings out.
 */
export function createChunkDecoder(reader: ReadingReader, tables: CityTables): ChunkDecoder {
  const topics = new Map<string, Uint8Array>();

  function topicBytesOf(topic: string): Uint8Array {
    let bytes = topics.get(topic);
    if (bytes === undefined) {
      bytes = new TextEncoder().encode(topic);
      topics.set(topic, bytes);
    }
    return bytes;
  }

  async function read(
    source: TopicPartition,
    messages: readonly KafkaMessage[],
    known: CityTableSet | undefined,
  ): Promise<{ writer: ChunkWriter; fastRows: number }> {
    const writer = new ChunkWriter(messages, topicBytesOf(source.topic), source.partition, known);
    try {
      return { writer, fastRows: await reader.readAll(messages, writer) };
    } catch (error) {
      // Only bad input becomes poison; a registry that does not answer is an outage, so the chunk
      // is retried instead of dead-lettered for a problem that is not its own.
      throw new DependencyUnavailableError("schema registry", error);
    }
  }

  async function readAgainst(
    source: TopicPartition,
    messages: readonly KafkaMessage[],
    known: CityTableSet,
  ): Promise<DecodedChunk> {
    const { writer, fastRows } = await read(source, messages, known);
    return writer.finish(source, fastRows, known);
  }

  return {
    async decode(source, messages) {
      const { writer, fastRows } = await read(source, messages, undefined);
      const hasAllTables = (known: CityTableSet) => writer.cities.every((city) => known.has(city));
      const known = await tables.current();
      if (hasAllTables(known)) return writer.finish(source, fastRows, known);
      // Bootstrap may have made a city's table since the last look: look again before
      // dead-lettering its readings.
      const now = await tables.refresh();
      if (hasAllTables(now)) return writer.finish(source, fastRows, now);
      return readAgainst(source, messages, now);
    },
    async decideAgain(chunk, error) {
      if (!saysATableIsMissing(error)) return undefined;
      const now = await tables.refresh();
      if (now.sameAs(chunk.tables)) return undefined;
      return readAgainst(chunk.source, chunk.messages, now);
    },
  };
}
