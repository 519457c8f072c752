/**
 * Removing what tests and the bench leave on the shared stack, and reading a topic back whole:
 * test plumbing, kept out of the packages the workers deploy.
 */
import { subjectOf, subjectPath, WIRE_FORMATS } from "@weather/schema";
import {
  fetchRegistry,
  type PartitionMessage,
  type RegistryConnection,
  readTopicToEnd,
} from "@weather/service-kit";
import type { Admin, Kafka } from "kafkajs";

/** Deletes those of the topics that exist: Kafka refuses the whole request for one absent topic. */
export async function deleteTopicsIfPresent(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present });
}

/**
 * The inverse of registerReadingSchemas: removes the topic's reading subjects (Avro and JSON),
 * soft first, then permanently, as the Confluent API requires. Subjects that are absent are fine.
 * @returns true when the registry confirmed every delete (200, or 404 for nothing to delete).
 */
export async function deleteReadingSubjects(registry: RegistryConnection, topic: string): Promise<boolean> {
  let confirmed = true;
  for (const format of WIRE_FORMATS) {
    const path = subjectPath(subjectOf(topic, format));
    for (const target of [path, `${path}?permanent=true`]) {
      const response = await fetchRegistry(registry, target, { method: "DELETE" }).catch(() => undefined);
      if (response?.status !== 200 && response?.status !== 404) confirmed = false;
    }
  }
  return confirmed;
}

/** readTopicToEnd, collecting the messages: for topics small enough to hold in memory. */
export async function collectTopicToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs?: number,
): Promise<PartitionMessage[]> {
  const messages: PartitionMessage[] = [];
  await readTopicToEnd(
    kafka,
    admin,
    topic,
    (partition, batch) => {
      for (const message of batch) messages.push({ ...message, partition });
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  return messages;
}
