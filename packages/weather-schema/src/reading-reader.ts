import type { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import type { StationCatalog } from "./catalog.ts";
import { createReadingDecoder } from "./codec.ts";
import { ReadingDecodeError } from "./decode-error.ts";
import { createFastReadingReader, createReadingSlots, type ReadingSlots } from "./fast-reader.ts";
import type { WeatherReading } from "./reading.ts";

/**
 * What a ReadingReader finds in each message, told in message order, exactly one call per message.
 * One visitor serves a whole chunk: nothing is allocated per message on the fast path.
 */
export interface ReadingVisitor {
  /**
   * Message `index` holds a valid reading, read the fast way into `slots`; they are the reader's
   * own and are overwritten by its next read, so use them before returning.
   */
  slots(index: number, slots: ReadingSlots): void;
  /** Message `index` holds a valid reading, decoded and validated by the general decoder. */
  reading(index: number, reading: WeatherReading): void;
  /** Message `index` is not a valid reading; `error.kind` says why (see ReadingDecodeErrorKind). */
  rejected(index: number, error: ReadingDecodeError): void;
  /** Message `index` has no value at all (null or zero bytes: a tombstone?). */
  empty(index: number): void;
}

export interface ReadingReader {
  /**
   * Reads every message's value, in order, telling `visitor` what each one is. Resolves to how
   * many were read the fast way.
   * @throws an Error that is not a ReadingDecodeError when the registry does not answer for a schema
   *   id (nothing is wrong with the message): the visitor has then seen only some messages; read
   *   them all again later.
   */
  readAll(messages: readonly { readonly value: Buffer | null }[], visitor: ReadingVisitor): Promise<number>;
}

export interface ReadingReaderOptions {
  /** Readings are validated against it (validateReading): implausible ones are rejected as "invalid". */
  readonly catalog: StationCatalog;
  /** The clock of the "not in the future" check; defaults to the system clock. */
  readonly now?: () => Date;
}

/**
 * The consumer side's one reader of readings, as createReadingEncoder is the producer side's one
 * writer. Each message goes the fast way (createFastReadingReader) when the fast reader vouches
 * for it, learning a new schema id from the registry once, and otherwise through the general
 * decoder and validator (createReadingDecoder), so a message read fast is exactly the reading the
 * general decoder would give, and a rejected one keeps the general decoder's kind and message.
 * Both share the registry client and the clock.
 */
export function createReadingReader(registry: SchemaRegistry, options: ReadingReaderOptions): ReadingReader {
  const now = options.now ?? (() => new Date());
  const fast = createFastReadingReader(registry, options.catalog);
  const decoder = createReadingDecoder(registry, { catalog: options.catalog, now });
  const slots = createReadingSlots();

  const reader: ReadingReader = {
    async readAll(messages, visitor) {
      let fastReads = 0;
      // Taken once, before any general decode: the fast path's future-skew check is then never
      // more lenient than the validator's, whose clock can only have moved on (see FastReadingReader.read).
      const nowMs = now().getTime();
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i] as { readonly value: Buffer | null };
        const { value } = message;
        if (value === null || value.length === 0) {
          visitor.empty(i);
          continue;
        }
        let vouched = fast.read(value, slots, nowMs);
        if (!vouched && fast.unlearned(value)) {
          // The first message of a schema id: learn it (once), then try again.
          await fast.prepare([message]);
          vouched = fast.read(value, slots, nowMs);
        }
        if (vouched) {
          // No await between the read and this call: a concurrent readAll cannot overwrite the slots.
          visitor.slots(i, slots);
          fastReads += 1;
          continue;
        }
        // A failed fast read may leave the slots half-written; nothing reads them before the next success.
        let reading: WeatherReading;
        try {
          reading = await decoder.decode(value);
        } catch (error) {
          if (!(error instanceof ReadingDecodeError)) throw error;
          visitor.rejected(i, error);
          continue;
        }
        visitor.reading(i, reading);
      }
      return fastReads;
    },
  };
  return Object.freeze(reader);
}
