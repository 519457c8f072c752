import { hostname } from "node:os";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import {
  createFastReadingReader,
  createReadingDecoder,
  deadLetterTopicOf,
  type StationCatalog,
} from "@weather/schema";
import { createKafka, type Logger, postgresOptions, startOpsServer } from "@weather/service-kit";
import { createBatchHandler } from "./batch-handler.ts";
import { pollUntilCaughtUp } from "./caught-up.ts";
import type { SinkConfig } from "./config.ts";
import { createDatabasePool } from "./database.ts";
import { openDeadLetterSender } from "./dead-letter.ts";
import { createChunkEncoder } from "./encode-chunk.ts";
import { connectToKafka } from "./kafka-connect.ts";
import { createLifetime } from "./lifetime.ts";
import { createSinkMetrics } from "./metrics.ts";
import { connectReadingsConsumer } from "./readings-consumer.ts";
import { rewindIfTopicWasRecreated } from "./recreated-topic.ts";
import { createSinkStatus, readinessOf } from "./status.ts";

export interface Sink {
  /** The port /healthz, /readyz and /metrics listen on (useful with SINK_HTTP_PORT=0). */
  readonly httpPort: number;
  /** With untilCaughtUp: resolves once every partition is stored up to its high watermark. */
  readonly caughtUp: Promise<void>;
  /** Rejects when the consumer crashed and kafkajs gave up restarting it. */
  readonly failed: Promise<never>;
  /** Finishes the chunk in flight, commits, leaves the group, closes everything. Idempotent. */
  stop(): Promise<void>;
}

export interface SinkOptions {
  readonly logger: Logger;
  /** The stations readings are validated against; default: the configuration's. */
  readonly catalog?: StationCatalog;
  /** Identifies this instance in Kafka and PostgreSQL (client id, application_name). */
  readonly instanceId?: string;
}

/**
 * Opens every connection the sink owns, starts consuming and serving /metrics, and returns the
 * handle that closes them again in reverse order. If a step fails, what was opened is closed.
 */
export async function startSink(config: SinkConfig, options: SinkOptions): Promise<Sink> {
  const { logger } = options;
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
  const deadLetterTopic = deadLetterTopicOf(config.readingsTopic);
  const metrics = createSinkMetrics();
  const status = createSinkStatus();
  const lifetime = createLifetime(logger, "pg-sink stopped");

  try {
    const http = await startOpsServer({
      port: config.httpPort,
      portSetting: "SINK_HTTP_PORT",
      registry: metrics.registry,
      readiness: () => readinessOf(status),
    });
    lifetime.closeOnStop("HTTP server", () => http.close());

    const database = createDatabasePool(config.databaseUrl, `pg-sink ${instanceId}`, postgresOptions(config));
    lifetime.closeOnStop("PostgreSQL pool", () => database.end());

    const kafka = createKafka(config, { clientId: `pg-sink-${instanceId}`, logger });
    const deadLetters = await openDeadLetterSender(kafka, deadLetterTopic, config.kafkaBrokers);
    lifetime.closeOnStop("Kafka producer", () => deadLetters.close());

    const admin = await connectToKafka(kafka.admin(), config.kafkaBrokers);
    lifetime.closeOnStop("Kafka admin", () => admin.disconnect());
    await rewindIfTopicWasRecreated(admin, database, config, logger);

    // With the catalog, the decoder also validates (validateReading): implausible values and unknown
    // stations come back as ReadingDecodeError kind "invalid" and are dead-lettered. The fast reader
    // takes the messages it can vouch for first (see FastReadingReader); both share the registry client.
    const catalog = options.catalog ?? config.catalog;
    const registry = new SchemaRegistry({ host: config.schemaRegistryUrl });
    const decoder = createReadingDecoder(registry, { catalog });
    const chunkEncoder = createChunkEncoder(createFastReadingReader(registry, catalog), decoder);

    const consumer = await connectReadingsConsumer(kafka, config, status, logger);
    lifetime.closeOnStop("Kafka consumer", () => consumer.close());
    await consumer.run(
      createBatchHandler({
        database,
        group: config.groupId,
        batchSize: config.batchSize,
        backoff: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs },
        encode: (topic, partition, messages) => chunkEncoder.encode(topic, partition, messages),
        deadLetterFor: (key) => deadLetters.senderFor(key),
        seek: (topic, partition, offset) => consumer.seek(topic, partition, offset),
        metrics,
        logger,
        status,
        signal: lifetime.signal,
      }),
    );
    logger.info(
      {
        topic: config.readingsTopic,
        deadLetterTopic,
        group: config.groupId,
        batchSize: config.batchSize,
        httpPort: http.port,
        untilCaughtUp: config.untilCaughtUp,
      },
      "pg-sink started",
    );

    const caughtUp = config.untilCaughtUp
      ? pollUntilCaughtUp(admin, database, config, logger, lifetime.signal)
      : new Promise<void>(() => {});
    return {
      httpPort: http.port,
      caughtUp,
      failed: consumer.failed,
      stop: () => lifetime.stop(),
    };
  } catch (error) {
    await lifetime.stop();
    throw error;
  }
}
