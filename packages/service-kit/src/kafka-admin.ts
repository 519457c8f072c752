import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, ITopicConfig, Kafka, KafkaMessage } from "kafkajs";

/**
 * Creates topics and waits until every partition has a leader. kafkajs's own `waitForLeaders`
 * gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a moment after the
 * create while the new topic reaches its metadata cache (seen on a freshly started broker under
 * load); here that answer means "not yet", as Kafka marks it retriable.
 * @returns false when a topic already existed, as kafkajs's createTopics does.
 */
export async function createTopicsAndWait(
  admin: Admin,
  topics: ITopicConfig[],
  timeoutMs = 30_000,
): Promise<boolean> {
  const created = await admin.createTopics({ topics, waitForLeaders: false });
  await waitForLeaders(
    admin,
    topics.map((t) => t.topic),
    timeoutMs,
  );
  return created;
}

/** Polls topic metadata until each named topic exists and every partition has a leader. */
export async function waitForLeaders(
  admin: Admin,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no metadata yet";
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...names] });
      const ready = names.every((name) => {
        const partitions = topics.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
      last = "a partition has no leader yet";
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable) throw error;
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`topics ${names.join(", ")} not ready after ${timeoutMs} ms (${last})`);
}

/**
 * The throwaway consumer groups readTopicToEnd reads through are named with this prefix (and a
 * random suffix), so an ACL on the prefix lets a principal read that way and delete them after.
 */
export const READ_TO_END_GROUP_PREFIX = "read-to-end-";

/** A message with the partition it was read from (kafkajs's KafkaMessage does not carry it). */
export type PartitionMessage = KafkaMessage & { readonly partition: number };

export interface ReadTopicOptions {
  /** Where to stop, per partition (exclusive); default: the high watermarks when the call starts. */
  readonly until?: ReadonlyMap<number, bigint>;
  // Generous: a benchmark's backlog of half a million readings is read this way too, and verify
  // reads millions.
  readonly timeoutMs?: number;
  /**
   * Most bytes one fetch may return, per partition and in all (kafkajs's maxBytesPerPartition and
   * maxBytes); default 16 MiB and 64 MiB. A reader that keeps nothing of the messages (verify) does
   * better with less: each response is held whole while it is decoded, so large ones cost memory
   * and collection time without reading any faster.
   */
  readonly fetchBytes?: { readonly perPartition: number; readonly total: number };
}

/**
 * Reads a topic from its log start up to the high watermarks it has when the call starts (or up
 * to `until`), handing over each fetched batch, through a throwaway consumer group that is deleted
 * afterwards. Messages appended meanwhile are not waited for, so the read always ends. A partition
 * counts as read once a batch reaches the end, transaction markers and other records kafkajs does
 * not hand over included (batch.lastOffset()).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  onBatch: (partition: number, messages: readonly KafkaMessage[]) => void | Promise<void>,
  options: ReadTopicOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  const watermarks = await admin.fetchTopicOffsets(topic);
  const ends = new Map(
    watermarks.map((o) => [o.partition, options.until?.get(o.partition) ?? BigInt(o.high)] as const),
  );
  const starts = new Map(watermarks.map((o) => [o.partition, BigInt(o.low)] as const));
  const pending = new Set(
    [...ends]
      .filter(([partition, end]) => end > (starts.get(partition) ?? 0n))
      .map(([partition]) => partition),
  );
  if (pending.size === 0) return;
  const groupId = `${READ_TO_END_GROUP_PREFIX}${randomUUID()}`;
  const fetchBytes = options.fetchBytes ?? { perPartition: 16 << 20, total: 64 << 20 };
  const consumer = kafka.consumer({
    groupId,
    maxBytes: fetchBytes.total,
    maxBytesPerPartition: fetchBytes.perPartition,
  });
  let resolve: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolveDone, reject) => {
    resolve = resolveDone;
    timer = setTimeout(
      () => reject(new Error(`${topic} not read to its end within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (!pending.has(batch.partition)) return;
        const end = ends.get(batch.partition) ?? 0n;
        const wanted = batch.messages.filter((m) => BigInt(m.offset) < end);
        if (wanted.length > 0) await onBatch(batch.partition, wanted);
        if (BigInt(batch.lastOffset()) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) resolve();
        }
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
