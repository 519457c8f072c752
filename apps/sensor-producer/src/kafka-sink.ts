import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import {
  createReadingEncoder,
  type ReadingSchemaVersion,
  type WeatherReading,
  type WireFormat,
} from "@weather/schema";
import { createKafka, type KafkaSecurity, type Logger } from "@weather/service-kit";
import {
  CompressionTypes,
  type Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Compression } from "./config.ts";
import type { ReadingSink } from "./produce.ts";

export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL; absent: PLAINTEXT. */
  readonly security?: KafkaSecurity;
  readonly schemaRegistryUrl: string;
  readonly topic: string;
  readonly format: WireFormat;
  /** The reading schema version to write; 1 unless given. */
  readonly schemaVersion?: ReadingSchemaVersion;
  readonly compression: Compression;
  readonly logger: Logger;
  readonly clientId?: string;
}

/** The producer side of Kafka for readings: owns the producer connection, opened here, closed by close(). */
export interface KafkaSink extends ReadingSink {
  readonly schemaId: number;
  close(): Promise<void>;
}

// kafkajs ships only gzip; snappy, lz4 and zstd need third-party codecs registered by hand.
const COMPRESSION: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};

const CONTENT_TYPES: Record<WireFormat, string> = {
  avro: "application/vnd.confluent.avro",
  json: "application/vnd.confluent.json",
};

/**
 * Generous retries: with these, a broker that is away for up to about a minute and a half costs
 * latency, not readings. kafkajs warns that limiting an idempotent producer's retries may break
 * exactly-once; we accept that because a send that finally fails ends the process (nothing is
 * dropped silently), and unbounded retries would hang forever on a broker that is gone for good.
 * All fields are given: under NODE_ENV=test kafkajs would otherwise use its tiny test defaults.
 */
const RETRY = { retries: 12, initialRetryTime: 300, maxRetryTime: 10_000, factor: 0.2, multiplier: 2 };
const REQUEST_TIMEOUT_MS = 30_000;

/** Routes kafkajs's own logs into our structured logger. */
function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: "kafkajs" });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      const entry = { namespace, ...extra };
      if (level === logLevel.ERROR) child.error(entry, message);
      else if (level === logLevel.WARN) child.warn(entry, message);
      else if (level === logLevel.INFO) child.info(entry, message);
      else child.debug(entry, message);
    };
}

function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `; caused by: ${error.cause.message}` : "";
  return `${error.name}: ${error.message}${cause}`;
}

/**
 * Connects to the registry and Kafka, checks that the topic exists (the broker does not create
 * topics implicitly, and a clear message beats a minute of retries), and returns the sink.
 */
export async function openKafkaSink(options: KafkaSinkOptions): Promise<KafkaSink> {
  const { topic, format, logger } = options;
  const brokers = options.brokers.join(",");

  const kafka = createKafka(
    { kafkaBrokers: options.brokers, kafkaSecurity: options.security ?? { tls: null, sasl: null } },
    {
      clientId: options.clientId ?? "sensor-producer",
      retry: RETRY,
      requestTimeout: REQUEST_TIMEOUT_MS,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    },
  );

  await assertTopicExists(kafka, topic, brokers);
  // After the topic check, so a mistyped topic does not leave a registry subject behind.
  const encoder = await createReadingEncoder(
    new SchemaRegistry({ host: options.schemaRegistryUrl }),
    topic,
    format,
    { version: options.schemaVersion ?? 1 },
  );

  const producer: Producer = kafka.producer({
    idempotent: true,
    // Idempotence keeps per-partition order for up to 5 in-flight requests; our sends are
    // sequential anyway, so one is enough and rules out any reordering on retry.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Murmur2 like the Java client, so other producers of the topic put a station in the same partition.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: RETRY,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw new Error(
      `cannot connect a producer to Kafka at ${brokers} (${explain(error)}); is the stack up? run: pnpm stack up`,
      {
        cause: error,
      },
    );
  }

  const headers = { "content-type": CONTENT_TYPES[format], format, producer: "sensor-producer" };
  let closed = false;

  return {
    schemaId: encoder.schemaId,
    async send(readings: readonly WeatherReading[]): Promise<void> {
      if (readings.length === 0) return;
      const messages: Message[] = await Promise.all(
        readings.map(async (reading) => ({
          key: reading.stationId,
          value: await encoder.encode(reading),
          headers,
          // No explicit timestamp: Kafka's retention works on it, and a backfill's old observedAt
          // would make the broker delete fresh messages at once. observedAt travels in the value.
        })),
      );
      try {
        await producer.send({
          topic,
          messages,
          acks: -1, // every in-sync replica, as idempotence requires
          timeout: REQUEST_TIMEOUT_MS,
          compression: COMPRESSION[options.compression],
        });
      } catch (error) {
        throw new Error(
          `cannot send ${readings.length} readings to topic "${topic}" at Kafka ${brokers} after retries (${explain(error)}); is the broker up? run: pnpm stack up`,
          { cause: error },
        );
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await producer.disconnect();
    },
  };
}

async function assertTopicExists(kafka: Kafka, topic: string, brokers: string): Promise<void> {
  const admin = kafka.admin({ retry: { ...RETRY, retries: 3 } });
  let topics: string[];
  try {
    await admin.connect();
    topics = await admin.listTopics();
  } catch (error) {
    throw new Error(
      `cannot reach Kafka at ${brokers} (${explain(error)}); is the stack up? run: pnpm stack up`,
      {
        cause: error,
      },
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
  if (!topics.includes(topic)) {
    throw new Error(
      `topic "${topic}" does not exist on Kafka at ${brokers}; create it first: pnpm --filter bootstrap start (or set --topic / READINGS_TOPIC)`,
    );
  }
}
