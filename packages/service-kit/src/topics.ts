import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, ITopicConfig } from "kafkajs";

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

/** Deletes those of the topics that exist: Kafka refuses the whole request for one absent topic. */
export async function deleteTopicsIfPresent(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present });
}
