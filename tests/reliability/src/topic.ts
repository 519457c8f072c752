import { randomUUID } from "node:crypto";
import { createReadingDecoder } from "@weather/schema";
import type { KafkaMessage } from "kafkajs";
import type { World } from "./world.ts";

/** KafkaMessage is a union in kafkajs's types, so the partition is added by intersection. */
export type TopicMessage = KafkaMessage & { readonly partition: number };

/**
 * Every message on a topic, from the beginning to the high watermarks taken at the start, read by
 * a throwaway consumer group that is deleted afterwards.
 */
export async function readTopic(world: World, topic: string, timeoutMs = 120_000): Promise<TopicMessage[]> {
  const offsets = await world.admin.fetchTopicOffsets(topic);
  const remaining = new Map(
    offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]),
  );
  if (remaining.size === 0) return [];
  const groupId = `reliability-reader-${randomUUID()}`;
  const consumer = world.kafka.consumer({ groupId, maxBytes: 20 * 1024 * 1024 });
  const messages: TopicMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${messages.length} messages of ${topic} in ${timeoutMs} ms; not all`)),
        timeoutMs,
      );
      void consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) messages.push({ ...message, partition: batch.partition });
            const last = remaining.get(batch.partition);
            if (last !== undefined && BigInt(batch.lastOffset()) >= last) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await world.admin.deleteGroups([groupId]).catch(() => {});
  }
  return messages;
}

/** The reading ids of a topic's messages, decoded through the registry like the sink does. */
export async function producedReadingIds(
  world: World,
  messages?: readonly TopicMessage[],
): Promise<string[]> {
  const decoder = createReadingDecoder(world.registry);
  const ids: string[] = [];
  for (const message of messages ?? (await readTopic(world, world.topic))) {
    if (message.value === null) continue;
    ids.push((await decoder.decode(message.value)).readingId);
  }
  return ids.sort();
}
