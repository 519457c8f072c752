import { type KafkaAcl, READ_TO_END_GROUP_PREFIX } from "@weather/service-kit";
import { DEFAULT_READINGS_TOPIC, DEFAULT_SINK_GROUP_ID, deadLetterTopicOf } from "./naming.ts";

/**
 * Each worker's Kafka principal (its SCRAM user) where the cluster runs an authorizer: the names
 * `pnpm stack up --secure` creates, and the names workerKafkaAcls grants to unless told others.
 */
export const KAFKA_PRINCIPALS = Object.freeze({
  bootstrap: "weather-bootstrap",
  producer: "weather-producer",
  sink: "weather-sink",
  dashboard: "weather-dashboard",
  report: "weather-report",
});

export type KafkaWorker = keyof typeof KAFKA_PRINCIPALS;

/**
 * The dashboard reads the dead-letter topic through throwaway consumer groups named with this
 * prefix (and a random suffix) and deletes each afterwards; its ACLs cover exactly these groups.
 */
export const DASHBOARD_READ_GROUP_PREFIX = "dashboard-dead-letters-";

export interface WorkerAclNames {
  /** READINGS_TOPIC; dead letters go to deadLetterTopicOf(it). */
  readonly readingsTopic?: string;
  /** SINK_GROUP_ID. */
  readonly sinkGroupId?: string;
  /** Other principal names than KAFKA_PRINCIPALS, per worker. */
  readonly principals?: Partial<Record<KafkaWorker, string>>;
}

/**
 * What each worker needs of Kafka, and nothing more: the one list the stack creates with
 * `pnpm stack up --secure`, `pnpm stack acls` prints for a real cluster, and docs/kafka-cluster.md
 * shows. WRITE and READ imply DESCRIBE in Kafka; DESCRIBE is listed anyway, as the worker uses it
 * on its own (metadata, offsets). Both producers are idempotent without transactions: since Kafka
 * 3.0 WRITE on a topic covers that (no IDEMPOTENT_WRITE on the cluster, no TransactionalId rule).
 */
export function workerKafkaAcls(names: WorkerAclNames = {}): KafkaAcl[] {
  const readings = names.readingsTopic ?? DEFAULT_READINGS_TOPIC;
  const deadLetters = deadLetterTopicOf(readings);
  const sinkGroup = names.sinkGroupId ?? DEFAULT_SINK_GROUP_ID;
  const principal = (worker: KafkaWorker) => names.principals?.[worker] ?? KAFKA_PRINCIPALS[worker];
  const topic = (name: string) => ({ resource: "topic", name, pattern: "literal" }) as const;
  const group = (name: string) => ({ resource: "group", name, pattern: "literal" }) as const;
  const groupsPrefixed = (prefix: string) =>
    ({ resource: "group", name: prefix, pattern: "prefixed" }) as const;
  return [
    {
      principal: principal("bootstrap"),
      ...topic(readings),
      operations: ["Create", "Describe"],
      why: "creates the readings topic, or finds it and checks its partitions",
    },
    {
      principal: principal("bootstrap"),
      ...topic(deadLetters),
      operations: ["Create", "Describe"],
      why: "creates the dead-letter topic, or finds it",
    },
    {
      principal: principal("producer"),
      ...topic(readings),
      operations: ["Write", "Describe"],
      why: "sends readings (idempotent); checks that the topic exists",
    },
    {
      principal: principal("sink"),
      ...topic(readings),
      operations: ["Read", "Describe"],
      why: "consumes readings; its offset checks read the partitions' watermarks",
    },
    {
      principal: principal("sink"),
      ...group(sinkGroup),
      operations: ["Read", "Describe"],
      why: "consumes in its group and commits offsets there for lag tools",
    },
    {
      principal: principal("sink"),
      ...topic(deadLetters),
      operations: ["Write", "Describe"],
      why: "dead-letters what it cannot store (idempotent)",
    },
    {
      principal: principal("dashboard"),
      ...topic(readings),
      operations: ["Describe"],
      why: "lag: the partitions' high watermarks",
    },
    {
      principal: principal("dashboard"),
      ...group(sinkGroup),
      operations: ["Describe"],
      why: "lag: the sink group's committed offsets and members",
    },
    {
      principal: principal("dashboard"),
      ...topic(deadLetters),
      operations: ["Read", "Describe"],
      why: "shows the last hour's dead letters",
    },
    {
      principal: principal("dashboard"),
      ...groupsPrefixed(DASHBOARD_READ_GROUP_PREFIX),
      operations: ["Read", "Delete"],
      why: "the throwaway groups it reads dead letters through, deleted after each read",
    },
    {
      principal: principal("report"),
      ...topic(readings),
      operations: ["Read", "Describe"],
      why: "`verify` reads the topic back to account for every offset",
    },
    {
      principal: principal("report"),
      ...topic(deadLetters),
      operations: ["Read", "Describe"],
      why: "`verify` reads the dead letters' source offsets",
    },
    {
      principal: principal("report"),
      ...groupsPrefixed(READ_TO_END_GROUP_PREFIX),
      operations: ["Read", "Delete"],
      why: "the throwaway groups `verify` reads through, deleted after each read",
    },
  ];
}
