import { createReadingDecoder } from "@weather/schema";
import type { PartitionMessage } from "@weather/service-kit";
import { collectTopicToEnd } from "@weather/test-support";
import type { World } from "./world.ts";

/** Every message on a topic, from the beginning to the high watermarks taken at the start. */
export function readTopic(world: World, topic: string, timeoutMs = 120_000): Promise<PartitionMessage[]> {
  return collectTopicToEnd(world.kafka, world.admin, topic, timeoutMs);
}

/** The reading ids of a topic's messages, decoded through the registry like the sink does. */
export async function producedReadingIds(
  world: World,
  messages?: readonly PartitionMessage[],
): Promise<string[]> {
  const decoder = createReadingDecoder(world.registry.client);
  const ids: string[] = [];
  for (const message of messages ?? (await readTopic(world, world.topic))) {
    if (message.value === null) continue;
    ids.push((await decoder.decode(message.value)).readingId);
  }
  return ids.sort();
}
