import type { Logger } from "@weather/service-kit";
import type { Consumer, Kafka } from "kafkajs";
import type { BatchHandler } from "./batch-handler.ts";
import type { SinkConfig } from "./config.ts";
import { connectToKafka } from "./connect-to-kafka.ts";
import type { SinkStatus } from "./status.ts";

/** The sink's consumer of the readings topic, from joining the group to leaving it. */
export interface ReadingsConsumer {
  /** Rejects when the consumer crashed and kafkajs gave up restarting it. */
  readonly failed: Promise<never>;
  /** Fetches the partition again from `offset` (the batch handler's way back to PostgreSQL's offset). */
  seek(topic: string, partition: number, offset: bigint): void;
  /** Subscribes and hands every fetched batch to `handler`. */
  run(handler: BatchHandler): Promise<void>;
  /** Waits for the offset commits already sent, then leaves the group. */
  close(): Promise<void>;
}

type ConsumerSettings = Pick<SinkConfig, "kafka" | "sinkGroup" | "topics" | "sink">;

/** Creates the consumer, keeps `status` current from its events, and connects it. */
export async function connectReadingsConsumer(
  kafka: Kafka,
  config: ConsumerSettings,
  status: SinkStatus,
  logger: Logger,
): Promise<ReadingsConsumer> {
  const { sink } = config;
  const consumer = kafka.consumer({
    groupId: config.sinkGroup,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: sink.batchMaxWaitMs,
    sessionTimeout: sink.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(sink.sessionTimeoutMs / 10)),
  });
  const failed = followConsumerEvents(consumer, config.topics.readings, status, logger);
  await connectToKafka(consumer, config.kafka.brokers);

  let handler: BatchHandler | undefined;
  return {
    failed,
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
    async run(handleBatch) {
      handler = handleBatch;
      // Where a new group starts in Kafka does not matter much: each batch is checked against, and
      // if need be sought back to, the offset stored in PostgreSQL.
      await consumer.subscribe({ topic: config.topics.readings, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        // Each partition's chunk is its own transaction with its own offsets row, so partitions may
        // be stored side by side: one waits on PostgreSQL while another decodes (see config.ts).
        partitionsConsumedConcurrently: sink.partitionsConcurrently,
        eachBatchAutoResolve: false,
        eachBatch: handleBatch,
      });
    },
    async close() {
      // The offset commits already sent are answered before the group is left (the batch in
      // flight waits for its own, see createBatchHandler).
      await handler?.settleKafkaCommits();
      await consumer.disconnect();
    },
  };
}

/**
 * Keeps the status behind /readyz current from the consumer's events. Returns a promise that
 * rejects when the consumer crashed for good.
 */
function followConsumerEvents(
  consumer: Consumer,
  topic: string,
  status: SinkStatus,
  logger: Logger,
): Promise<never> {
  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  // Nobody may be listening (e.g. during stop); the rejection is still reported through `failed`.
  failed.catch(() => {});

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
    status.assignedPartitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
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
  return failed;
}
