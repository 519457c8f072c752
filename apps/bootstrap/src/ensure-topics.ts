import { createTopicsAndWait } from "@weather/service-kit";
import type { Admin, ITopicConfig } from "kafkajs";
import type { BootstrapConfig } from "./config.ts";

export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
  readonly retentionMs: number;
}

export interface TopicOutcome {
  readonly topic: string;
  /**
   * "conflict": the topic exists with another partition count than configured. Never accepted
   * silently: the partition count decides which partition a station's key lands on, so per-station
   * ordering and consumer parallelism are not what the operator asked for.
   */
  readonly status: "created" | "found" | "conflict";
  readonly partitions: number;
  readonly expectedPartitions: number;
  readonly replicationFactor: number;
}

/** The readings topic and its dead-letter topic; dead letters share the partition count so a
 * source partition's failures can keep their order, and are kept longer. */
export function topicSpecsOf(config: Pick<BootstrapConfig, "topics" | "bootstrap">): TopicSpec[] {
  return [
    {
      topic: config.topics.readings,
      numPartitions: config.bootstrap.readingsPartitions,
      retentionMs: config.bootstrap.readingsRetentionMs,
    },
    {
      topic: config.topics.deadLetters,
      numPartitions: config.bootstrap.readingsPartitions,
      retentionMs: config.bootstrap.deadLetterRetentionMs,
    },
  ];
}

/** Three copies where the cluster has them; a single local broker gets one. */
function replicationFactorFor(brokerCount: number): number {
  return Math.max(1, Math.min(3, brokerCount));
}

function topicConfigOf(spec: TopicSpec, replicationFactor: number): ITopicConfig {
  const configEntries = [
    { name: "cleanup.policy", value: "delete" },
    { name: "retention.ms", value: String(spec.retentionMs) },
  ];
  // With three copies, acks=all keeps working while one broker is down and still means two copies.
  if (replicationFactor >= 3) configEntries.push({ name: "min.insync.replicas", value: "2" });
  return { topic: spec.topic, numPartitions: spec.numPartitions, replicationFactor, configEntries };
}

async function describeExisting(admin: Admin, spec: TopicSpec): Promise<TopicOutcome> {
  const metadata = await admin.fetchTopicMetadata({ topics: [spec.topic] });
  const partitions = metadata.topics[0]?.partitions ?? [];
  return {
    topic: spec.topic,
    status: partitions.length === spec.numPartitions ? "found" : "conflict",
    partitions: partitions.length,
    expectedPartitions: spec.numPartitions,
    replicationFactor: partitions[0]?.replicas.length ?? 0,
  };
}

/**
 * Creates each topic unless it exists; an existing one is compared with its spec. One topic per
 * createTopics call, because kafkajs answers "already exists" (false) only for the whole call,
 * and a concurrent bootstrap may have created it between our look and our create.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<TopicOutcome[]> {
  const { brokers } = await admin.describeCluster();
  const replicationFactor = replicationFactorFor(brokers.length);
  const existing = new Set(await admin.listTopics());
  const outcomes: TopicOutcome[] = [];
  for (const spec of specs) {
    if (!existing.has(spec.topic)) {
      const created = await createTopicsAndWait(admin, [topicConfigOf(spec, replicationFactor)]);
      if (created) {
        outcomes.push({
          topic: spec.topic,
          status: "created",
          partitions: spec.numPartitions,
          expectedPartitions: spec.numPartitions,
          replicationFactor,
        });
        continue;
      }
    }
    outcomes.push(await describeExisting(admin, spec));
  }
  return outcomes;
}
