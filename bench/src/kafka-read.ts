import type { Admin } from "kafkajs";

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
