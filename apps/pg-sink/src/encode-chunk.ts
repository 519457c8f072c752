import { CopyRows } from "@weather/db";
import {
  createReadingSlots,
  type FastReadingReader,
  type ReadingDecoder,
  type ReadingSlots,
} from "@weather/schema";
import type { KafkaMessage } from "kafkajs";
import { classifyMessage } from "./classify.ts";
import type { Poison } from "./dead-letter.ts";

/**
 * A chunk of one partition's messages, decoded, validated and already written as binary COPY rows,
 * before its transaction starts. Message i's row is rows[rowStart[i], rowEnd[i]), or it is poison.
 * No object per message: the transaction later sends a slice of `rows` as it is.
 */
export interface EncodedChunk {
  readonly topic: string;
  readonly partition: number;
  /** In offset order. */
  readonly messages: readonly KafkaMessage[];
  readonly rows: Buffer;
  /** -1 for poison. */
  readonly rowStart: Int32Array;
  readonly rowEnd: Int32Array;
  /** The city of each message's reading (which table it lands in); undefined for poison. */
  readonly cities: readonly (string | undefined)[];
  /** The station of each message's reading; undefined for poison. */
  readonly stationIds: readonly (string | undefined)[];
  /** Why a message cannot be stored; undefined for a reading. */
  readonly poison: readonly (Poison | undefined)[];
  /** How many readings the fast reader read (the rest went through the general decoder). */
  readonly fastRows: number;
}

export interface ChunkEncoder {
  /**
   * @throws DependencyUnavailableError while the registry is down (the chunk is retried as a whole).
   */
  encode(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<EncodedChunk>;
}

/** Bytes a row takes, about: sizing the buffer once instead of growing it. */
const ROW_BYTES_ESTIMATE = 160;

/**
 * Each message goes the fast way when the fast reader vouches for it, and otherwise through the
 * general decoder and validator, exactly as before: poison keeps its kinds and messages.
 */
export function createChunkEncoder(
  fast: FastReadingReader,
  decoder: ReadingDecoder,
  /** The clock of the fast path's future-skew check; the decoder's own clock must not run behind it. */
  now: () => number = Date.now,
): ChunkEncoder {
  const slots: ReadingSlots = createReadingSlots();
  const topics = new Map<string, Uint8Array>();
  return {
    async encode(topic, partition, messages) {
      let topicBytes = topics.get(topic);
      if (topicBytes === undefined) {
        topicBytes = new TextEncoder().encode(topic);
        topics.set(topic, topicBytes);
      }
      const count = messages.length;
      const rows = new CopyRows(count * (ROW_BYTES_ESTIMATE + topicBytes.length) + 1024);
      const rowStart = new Int32Array(count);
      const rowEnd = new Int32Array(count);
      const cities: (string | undefined)[] = new Array(count).fill(undefined);
      const stationIds: (string | undefined)[] = new Array(count).fill(undefined);
      const poison: (Poison | undefined)[] = new Array(count).fill(undefined);
      let fastRows = 0;
      // Taken once, before any general decode: the fast path's future-skew check is then never
      // more lenient than the validator's (see FastReadingReader.read).
      const nowMs = now();
      for (let i = 0; i < count; i++) {
        const message = messages[i] as KafkaMessage;
        const { value } = message;
        const start = rows.length;
        let vouched = value !== null && fast.read(value, slots, nowMs);
        if (!vouched && value !== null && fast.unlearned(value)) {
          // The first message of a schema id: learn it (once), then try again.
          await fast.prepare([message]);
          vouched = fast.read(value, slots, nowMs);
        }
        if (vouched) {
          rows.appendSlots(slots, topicBytes, partition, message.offset);
          cities[i] = slots.station.city;
          stationIds[i] = slots.station.id;
          fastRows += 1;
        } else {
          // A failed fast read may leave the slots half-written; nothing reads them before the next success.
          const outcome = await classifyMessage(message, decoder);
          if (!outcome.ok) {
            poison[i] = outcome.poison;
            rowStart[i] = -1;
            rowEnd[i] = -1;
            continue;
          }
          rows.appendReading(outcome.reading, topicBytes, partition, message.offset);
          cities[i] = outcome.reading.city;
          stationIds[i] = outcome.reading.stationId;
        }
        rowStart[i] = start;
        rowEnd[i] = rows.length;
      }
      return {
        topic,
        partition,
        messages,
        rows: rows.bytes(),
        rowStart,
        rowEnd,
        cities,
        stationIds,
        poison,
        fastRows,
      };
    },
  };
}
