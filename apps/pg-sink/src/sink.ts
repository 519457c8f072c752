import { hostname } from "node:os";
import { createReadingReader, type StationCatalog } from "@weather/schema";
import {
  createKafka,
  createRegistryClient,
  type Logger,
  postgresOptions,
  startOpsServer,
} from "@weather/service-kit";
import { createBatchHandler } from "./batch-handler.ts";
import { pollUntilCaughtUp } from "./caught-up.ts";
import { createCityTables } from "./city-tables.ts";
import type { SinkConfig } from "./config.ts";
import { connectToKafka } from "./connect-to-kafka.ts";
import { createDatabasePool } from "./database.ts";
import { openDeadLetterSender } from "./dead-letter.ts";
import { createChunkDecoder } from "./decode-chunk.ts";
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
  const deadLetterTopic = config.topics.deadLetters;
  const metrics = createSinkMetrics();
  const status = createSinkStatus();
  const lifetime = createLifetime(logger, "pg-sink stopped");

  try {
    const http = await startOpsServer({
      port: config.sink.httpPort,
      portSetting: "SINK_HTTP_PORT",
      registry: metrics.registry,
      readiness: () => readinessOf(status),
    });
    lifetime.closeOnStop("HTTP server", () => http.close());

    const database = createDatabasePool(
      config.postgres.url,
      `pg-sink ${instanceId}`,
      postgresOptions(config.postgres),
    );
    lifetime.closeOnStop("PostgreSQL pool", () => database.end());

    const kafka = createKafka(config.kafka, { clientId: `pg-sink-${instanceId}`, logger });
    const deadLetters = await openDeadLetterSender(kafka, deadLetterTopic, config.kafka.brokers);
    lifetime.closeOnStop("Kafka producer", () => deadLetters.close());

    const admin = await connectToKafka(kafka.admin(), config.kafka.brokers);
    lifetime.closeOnStop("Kafka admin", () => admin.disconnect());
    await rewindIfTopicWasRecreated(admin, database, config, logger);

    // The reader validates against the catalog (validateReading): implausible values and unknown
    // stations are dead-lettered as kind "invalid"; readings of a city without a table as "no-table".
    const catalog = options.catalog ?? config.catalog;
    const registry = createRegistryClient(config.registry).client;
    const decoder = createChunkDecoder(
      createReadingReader(registry, { catalog }),
      createCityTables(database),
    );

    const consumer = await connectReadingsConsumer(kafka, config, status, logger);
    lifetime.closeOnStop("Kafka consumer", () => consumer.close());
    await consumer.run(
      createBatchHandler({
        database,
        group: config.sinkGroup,
        batchSize: config.sink.batchSize,
        backoff: { initialMs: config.sink.backoffInitialMs, maxMs: config.sink.backoffMaxMs },
        decoder,
        deadLetters,
        seek: (topic, partition, offset) => consumer.seek(topic, partition, offset),
        metrics,
        logger,
        status,
        signal: lifetime.signal,
      }),
    );
    logger.info(
      {
        topic: config.topics.readings,
        deadLetterTopic,
        group: config.sinkGroup,
        batchSize: config.sink.batchSize,
        httpPort: http.port,
        untilCaughtUp: config.sink.untilCaughtUp,
      },
      "pg-sink started",
    );

    const caughtUp = config.sink.untilCaughtUp
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
