import { randomUUID } from "node:crypto";
import type { Admin, Kafka, KafkaMessage } from "kafkajs";

/** The end offset (high watermark) of every partition of a topic. */
export async function highWatermarks(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

/** Messages in a topic: the sum of its partitions' high watermarks (bench topics start at 0). */
export function totalOf(watermarks: ReadonlyMap<number, bigint>): number {
  let total = 0n;
  for (const high of watermarks.values()) total += high;
  return Number(total);
}

/**
 * Reads a topic from the beginning up to the high watermarks it has now, handing over each
 * fetched batch, then leaves and deletes its throwaway consumer group.
 */
export async function readWholeTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  onBatch: (partition: number, messages: readonly KafkaMessage[]) => void | Promise<void>,
): Promise<void> {
  const ends = await highWatermarks(admin, topic);
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
  if (pending.size === 0) return;
  const groupId = `bench-read-${randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 64 << 20, maxBytesPerPartition: 16 << 20 });
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition) ?? 0n;
        const wanted = batch.messages.filter((m) => BigInt(m.offset) < end);
        if (wanted.length > 0) await onBatch(batch.partition, wanted);
        const last = batch.messages.at(-1);
        if (last !== undefined && BigInt(last.offset) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
