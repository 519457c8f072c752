import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import {
  createFastReadingReader,
  createReadingDecoder,
  deadLetterTopicOf,
  type StationCatalog,
} from "@weather/schema";
import { createKafka, type Logger, postgresOptions, startOpsServer } from "@weather/service-kit";
import { type Admin, type Consumer, Partitioners, type Producer } from "kafkajs";
import { createBatchHandler, type SinkStatus } from "./batch-handler.ts";
import { isCaughtUp } from "./caught-up.ts";
import type { SinkConfig } from "./config.ts";
import { createDatabasePool, type DatabasePool } from "./database.ts";
import { buildDeadLetter, sendDeadLetters } from "./dead-letter.ts";
import { createChunkEncoder } from "./encode-chunk.ts";
import { createSinkMetrics } from "./metrics.ts";
import { readStoredOffsets, rewindOffsetsBeyondEnd } from "./offsets.ts";
import { DependencyUnavailableError } from "./outage.ts";

export interface Sink {
  /** The port /healthz, /readyz and /metrics listen on (useful with SINK_HTTP_PORT=0). */
  readonly httpPort: number;
  /** With untilCaughtUp: resolves once every partition is stored up to its high watermark. */
  readonly caughtUp: Promise<void>;
  /** Rejects when the consumer crashed and kafkajs gave up restarting it. */
  readonly failed: Promise<never>;
  /** Starts a fresh PostgreSQL pool (see database.ts). */
  renewDatabasePool(): void;
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

const CAUGHT_UP_POLL_MS = 1_000;

/**
 * Opens every connection the sink owns, starts consuming and serving /metrics, and returns the
 * handle that closes them again in reverse order. If a step fails, what was opened is closed.
 */
export async function startSink(config: SinkConfig, options: SinkOptions): Promise<Sink> {
  const { logger } = options;
  const catalog = options.catalog ?? config.catalog;
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
  const deadLetterTopic = deadLetterTopicOf(config.readingsTopic);
  const metrics = createSinkMetrics();
  const status: SinkStatus = { connected: false, assignedPartitions: [], waitingFor: undefined };
  const shutdown = new AbortController();
  const closers: { name: string; close: () => Promise<unknown> }[] = [];

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shutdown.abort();
      for (const { name, close } of closers.reverse()) {
        await close().catch((error: unknown) => logger.warn({ err: error }, `closing ${name} failed`));
      }
      logger.info("pg-sink stopped");
    })();
    return stopping;
  };

  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  // Nobody may be listening (e.g. during stop); the rejection is still reported through `failed`.
  failed.catch(() => {});

  try {
    const http = await startOpsServer({
      port: config.httpPort,
      portSetting: "SINK_HTTP_PORT",
      registry: metrics.registry,
      readiness: () => ({
        ready: status.connected && status.assignedPartitions.length > 0 && status.waitingFor === undefined,
        connected: status.connected,
        assignedPartitions: status.assignedPartitions,
        waitingFor: status.waitingFor ?? null,
      }),
    });
    closers.push({ name: "HTTP server", close: () => http.close() });

    const database = createDatabasePool(config.databaseUrl, `pg-sink ${instanceId}`, postgresOptions(config));
    closers.push({ name: "PostgreSQL pool", close: () => database.end() });

    const kafka = createKafka(config, { clientId: `pg-sink-${instanceId}`, logger });

    // Idempotent, so a send retried after a lost acknowledgement does not write a dead letter twice.
    const producer: Producer = kafka.producer({
      idempotent: true,
      // No count (see sendDeadLetters for what bounds a send instead).
      retry: { retries: Number.MAX_SAFE_INTEGER },
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Dead letters keep their original key; which DLQ partition it hashes to does not matter.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await connectTo("Kafka", config.kafkaBrokers.join(","), () => producer.connect());
    closers.push({ name: "Kafka producer", close: () => producer.disconnect() });

    const admin: Admin = kafka.admin();
    await connectTo("Kafka", config.kafkaBrokers.join(","), () => admin.connect());
    closers.push({ name: "Kafka admin", close: () => admin.disconnect() });
    await rewindIfTopicWasRecreated(admin, database, config, logger);

    // With the catalog, the decoder also validates (validateReading): implausible values and unknown
    // stations come back as ReadingDecodeError kind "invalid" and are dead-lettered. The fast reader
    // takes the messages it can vouch for first (see FastReadingReader); both share the registry client.
    const registry = new SchemaRegistry({ host: config.schemaRegistryUrl });
    const decoder = createReadingDecoder(registry, { catalog });
    const chunkEncoder = createChunkEncoder(createFastReadingReader(registry, catalog), decoder);
    const consumer: Consumer = kafka.consumer({
      groupId: config.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: config.batchMaxWaitMs,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
    });
    consumer.on(consumer.events.CONNECT, () => {
      status.connected = true;
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      status.connected = false;
      status.assignedPartitions = [];
    });
    consumer.on(consumer.events.REBALANCING, () => {
      status.assignedPartitions = [];
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      status.assignedPartitions = [...(payload.memberAssignment[config.readingsTopic] ?? [])].sort(
        (a, b) => a - b,
      );
      logger.info(
        { partitions: status.assignedPartitions, memberId: payload.memberId },
        "joined the consumer group",
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      status.connected = false;
      if (!payload.restart) rejectFailed(payload.error);
      else logger.warn({ err: payload.error }, "consumer crashed; kafkajs restarts it");
    });

    await connectTo("Kafka", config.kafkaBrokers.join(","), () => consumer.connect());
    const handleBatch = createBatchHandler({
      database,
      group: config.groupId,
      batchSize: config.batchSize,
      backoff: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs },
      encode: (topic, partition, messages) => chunkEncoder.encode(topic, partition, messages),
      deadLetterFor: (key) => async (poison) => {
        const now = new Date();
        const letters = poison.map((p) =>
          buildDeadLetter(p.message, { topic: key.topic, partition: key.partition }, p.poison, now),
        );
        try {
          await sendDeadLetters(producer, deadLetterTopic, letters);
        } catch (error) {
          throw new DependencyUnavailableError("Kafka", error);
        }
      },
      seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
      metrics,
      logger,
      status,
      signal: shutdown.signal,
    });
    closers.push({
      name: "Kafka consumer",
      // The offset commits already sent are answered before the group is left (the batch in
      // flight waits for its own, see createBatchHandler).
      close: async () => {
        await handleBatch.settleKafkaCommits();
        await consumer.disconnect();
      },
    });
    // Where a new group starts in Kafka does not matter much: each batch is checked against, and if
    // need be sought back to, the offset stored in PostgreSQL.
    await consumer.subscribe({ topic: config.readingsTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Each partition's chunk is its own transaction with its own offsets row, so partitions may be
      // stored side by side: one waits on PostgreSQL while another decodes (see config.ts).
      partitionsConsumedConcurrently: config.partitionsConcurrently,
      eachBatchAutoResolve: false,
      eachBatch: handleBatch,
    });
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
      ? pollUntilCaughtUp(admin, database, config, logger, shutdown.signal)
      : new Promise<void>(() => {});
    return { httpPort: http.port, caughtUp, failed, stop, renewDatabasePool: () => database.renew() };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A connection that fails at start ends the run as DEPENDENCY_UNAVAILABLE, saying where. */
async function connectTo(dependency: "Kafka", address: string, connect: () => Promise<void>): Promise<void> {
  try {
    await connect();
  } catch (error) {
    throw new DependencyUnavailableError(
      dependency,
      error,
      `cannot connect to ${dependency} at ${address}; is the stack up? run: pnpm stack up`,
    );
  }
}

/**
 * Checks the stored offsets against the topic before consuming (see rewindOffsetsBeyondEnd). A
 * failure here is not fatal: the batches' own checks still hold; the warning says what was missed.
 */
async function rewindIfTopicWasRecreated(
  admin: Admin,
  database: DatabasePool,
  config: SinkConfig,
  logger: Logger,
): Promise<void> {
  try {
    const watermarks = await admin.fetchTopicOffsets(config.readingsTopic);
    const rewound = await rewindOffsetsBeyondEnd(
      database.current(),
      config.groupId,
      config.readingsTopic,
      watermarks,
    );
    for (const r of rewound) {
      logger.warn(
        {
          topic: config.readingsTopic,
          partition: r.partition,
          stored: String(r.stored),
          end: String(r.high),
        },
        `stored offset ${r.stored} of ${config.readingsTopic}[${r.partition}] lies beyond the partition's end ${r.high}: ` +
          `the topic was recreated or Kafka reset; reading it again from ${r.restartAt} (readings already stored are recognised by id)`,
      );
    }
  } catch (error) {
    logger.warn(
      { err: error },
      "could not compare stored offsets with the topic's end; a recreated topic would go unnoticed",
    );
  }
}

/** Resolves once PostgreSQL holds every partition of the topic up to Kafka's high watermark. */
async function pollUntilCaughtUp(
  admin: Admin,
  database: DatabasePool,
  config: SinkConfig,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const [watermarks, stored] = await Promise.all([
        admin.fetchTopicOffsets(config.readingsTopic),
        readStoredOffsets(database.current(), config.groupId, config.readingsTopic),
      ]);
      if (isCaughtUp(watermarks, stored)) {
        logger.info({ topic: config.readingsTopic }, "caught up: every partition is stored to its end");
        return;
      }
    } catch (error) {
      logger.debug({ err: error }, "caught-up check failed; trying again");
    }
    await sleep(CAUGHT_UP_POLL_MS, undefined, { signal }).catch(() => {});
  }
  // Stopped before catching up: never resolve, the caller is already shutting down.
  await new Promise<void>(() => {});
}
