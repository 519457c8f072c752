import { createReadingEncoder, type ReadingSchemaVersion, type WireFormat } from "@weather/schema";
import {
  asDependencyFailure,
  createKafka,
  createRegistryClient,
  DependencyUnavailableError,
  fetchRegistry,
  KAFKA_RETRY,
  type KafkaConnection,
  type Logger,
  type RegistryConnection,
  WorkerError,
  within,
} from "@weather/service-kit";
import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from "kafkajs";
import type { Compression } from "./config.ts";
import { corruptEncoded } from "./invalid.ts";
import type { OutgoingMessage } from "./messy-stream.ts";
import type { ReadingDestination } from "./produce.ts";

export interface ReadingsProducerOptions {
  readonly kafka: KafkaConnection;
  readonly registry: RegistryConnection;
  readonly topic: string;
  readonly format: WireFormat;
  /** The reading schema version to write; 1 unless given. */
  readonly schemaVersion?: ReadingSchemaVersion;
  readonly compression: Compression;
  readonly logger: Logger;
  readonly clientId?: string;
  /** Longest a batch may wait for its acknowledgement; kafkajs retries until then. */
  readonly sendTimeoutMs: number;
  /** Whether invalid messages of kind "unknown-schema" will be sent (a schema id is then found for them). */
  readonly unknownSchemaIds?: boolean;
}

/** The producer side of Kafka for readings: owns the producer connection, opened here, closed by close(). */
export interface ReadingsProducer extends ReadingDestination {
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

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends retry without a count (kafkajs's default for an idempotent producer): a batch kafkajs gave
 * up on could leave the producer's sequence numbers behind the broker's, and a resend after that is
 * exactly what idempotence exists to rule out. What bounds a send instead is time
 * (sendTimeoutMs): a batch still unacknowledged then ends the run with DEPENDENCY_UNAVAILABLE, and
 * nothing is resent by this process. A reading is never lost silently either: the run fails loudly.
 */
const SEND_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 };

/**
 * Connects to the registry and Kafka, checks that the topic exists (the broker does not create
 * topics implicitly, and a clear message beats a minute of retries), and returns the producer of readings.
 */
export async function openReadingsProducer(options: ReadingsProducerOptions): Promise<ReadingsProducer> {
  const { topic, format, logger } = options;
  const brokers = options.kafka.brokers.join(",");

  const kafka = createKafka(options.kafka, {
    clientId: options.clientId ?? "sensor-producer",
    retry: "patient",
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    logger,
  });

  await assertTopicExists(kafka, topic, brokers);
  // After the topic check, so a mistyped topic does not leave a registry subject behind.
  const encoder = await createReadingEncoder(createRegistryClient(options.registry), topic, format, {
    version: options.schemaVersion ?? 1,
  }).catch((error: unknown) => {
    throw asDependencyFailure("schema registry", error);
  });

  const producer: Producer = kafka.producer({
    idempotent: true,
    // Idempotence keeps per-partition order for up to 5 in-flight requests; our sends are
    // sequential anyway, so one is enough and rules out any reordering on retry.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Murmur2 like the Java client, so other producers of the topic put a station in the same partition.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: SEND_RETRY,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw new DependencyUnavailableError(
      "Kafka",
      error,
      `cannot connect a producer to ${brokers}; is the stack up? run: pnpm stack up`,
    );
  }

  const unknownSchemaId = options.unknownSchemaIds ? await findUnknownSchemaId(options.registry) : 0;
  const headers = { "content-type": CONTENT_TYPES[format], format, producer: "sensor-producer" };
  let closed = false;
  const wireValue = (message: OutgoingMessage, encoded: Buffer): Buffer | null =>
    message.kind === "invalid" ? corruptEncoded(message.invalid, encoded, unknownSchemaId) : encoded;

  return {
    schemaId: encoder.schemaId,
    async send(outgoing: readonly OutgoingMessage[]): Promise<void> {
      if (outgoing.length === 0) return;
      const encoded = await encoder.encodeAll(outgoing.map((message) => message.reading));
      const messages: Message[] = outgoing.map((message, i) => ({
        key: message.reading.stationId,
        value: wireValue(message, encoded[i] as Buffer),
        // One object for every message: kafkajs's record encoder (as patched) encodes it once per batch.
        headers,
        // No explicit timestamp: Kafka's retention works on it, and a backfill's old observedAt
        // would make the broker delete fresh messages at once. observedAt travels in the value.
      }));
      const sent = producer.send({
        topic,
        messages,
        acks: -1, // every in-sync replica, as idempotence requires
        timeout: REQUEST_TIMEOUT_MS,
        compression: COMPRESSION[options.compression],
      });
      try {
        await within(
          sent,
          options.sendTimeoutMs,
          () =>
            new DependencyUnavailableError(
              "Kafka",
              `no acknowledgement for ${outgoing.length} messages within ${options.sendTimeoutMs} ms`,
              `Kafka at ${brokers} does not take writes to "${topic}" (down, or fewer in-sync replicas than min.insync.replicas); ` +
                "readings acknowledged before are stored, the rest of this run is not sent",
            ),
        );
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        throw new DependencyUnavailableError(
          "Kafka",
          error,
          `cannot send ${outgoing.length} messages to topic "${topic}" at ${brokers}; is the broker up? run: pnpm stack up`,
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
  const admin = kafka.admin({ retry: { ...KAFKA_RETRY.patient, retries: 3 } });
  let topics: string[];
  try {
    await admin.connect();
    topics = await admin.listTopics();
  } catch (error) {
    throw new DependencyUnavailableError(
      "Kafka",
      error,
      `cannot reach ${brokers}; is the stack up? run: pnpm stack up`,
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
  if (!topics.includes(topic)) {
    throw new WorkerError("CONFIGURATION", `topic "${topic}" does not exist on Kafka at ${brokers}`, {
      hint: "create it first: pnpm --filter bootstrap start (or set --topic / READINGS_TOPIC)",
    });
  }
}

/** Ids far above what a registry hands out (they count from 1), tried from the top. */
const UNKNOWN_SCHEMA_ID_CANDIDATES = Array.from({ length: 10 }, (_, i) => 2_000_000_000 - i);

/**
 * A schema id the registry does not have, for "unknown-schema" messages: were it known, the sink
 * would decode the message with it instead of dead-lettering it, and the manifest would be wrong.
 */
async function findUnknownSchemaId(registry: RegistryConnection): Promise<number> {
  for (const id of UNKNOWN_SCHEMA_ID_CANDIDATES) {
    let status: number;
    try {
      const response = await fetchRegistry(registry, `/schemas/ids/${id}`);
      await response.body?.cancel();
      status = response.status;
    } catch (error) {
      throw new DependencyUnavailableError(
        "schema registry",
        error,
        `cannot reach ${registry.url}; is the stack up? run: pnpm stack up`,
      );
    }
    if (status === 404) return id;
    if (status !== 200) {
      throw new DependencyUnavailableError(
        "schema registry",
        `GET /schemas/ids/${id} answered ${status}`,
        `check SCHEMA_REGISTRY_URL (${registry.url})`,
      );
    }
  }
  throw new WorkerError(
    "CONFLICT",
    `the registry at ${registry.url} has every schema id tried for unknown-schema messages`,
    {
      hint: "leave unknown-schema out of PRODUCER_INVALID_KINDS",
    },
  );
}
