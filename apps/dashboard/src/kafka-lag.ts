import { type Admin, AssignerProtocol } from "kafkajs";

export interface PartitionLag {
  readonly partition: number;
  /** Offset of the next message to be written (the high watermark). */
  readonly high: number;
  /** Oldest offset still retained. */
  readonly low: number;
  /** The group's committed offset (next to read); null: the group has committed nothing here. */
  readonly committed: number | null;
  /** Messages the group has yet to process: high minus committed, or everything retained. */
  readonly lag: number;
}

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  /** As the broker saw the connection, without kafkajs's leading slash. */
  readonly host: string;
  readonly partitions: readonly number[];
}

export interface ConsumerLag {
  readonly topic: string;
  readonly groupId: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, ... (Dead: unknown group). */
  readonly groupState: string;
  readonly partitions: readonly PartitionLag[];
  readonly totalLag: number;
  readonly members: readonly GroupMember[];
}

/**
 * The sink group's progress on the readings topic, from Kafka's admin API: the high watermark of
 * each partition against the offset the group committed (the sink commits to Kafka after each
 * PostgreSQL transaction, so this is what lag tools see), and who is in the group right now.
 */
export async function queryConsumerLag(admin: Admin, topic: string, groupId: string): Promise<ConsumerLag> {
  const [watermarks, committed, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
    admin.describeGroups([groupId]),
  ]);
  const committedOf = new Map(
    (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  const partitions = watermarks
    .map(({ partition, high, low }) => {
      const offset = committedOf.get(partition);
      const committedOffset = offset !== undefined && offset >= 0 ? offset : null;
      return lagOf(partition, Number(high), Number(low), committedOffset);
    })
    .sort((a, b) => a.partition - b.partition);
  const group = groups.groups.find((g) => g.groupId === groupId);
  const members = (group?.members ?? []).map((member) => ({
    memberId: member.memberId,
    clientId: member.clientId,
    host: member.clientHost.replace(/^\//, ""),
    partitions: assignedPartitions(member.memberAssignment, topic),
  }));
  return {
    topic,
    groupId,
    groupState: group?.state ?? "Unknown",
    partitions,
    totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
    members: members.sort(
      (a, b) => a.clientId.localeCompare(b.clientId) || a.memberId.localeCompare(b.memberId),
    ),
  };
}

/** A partition's lag; a committed offset below the log's start counts from the start. */
export function lagOf(partition: number, high: number, low: number, committed: number | null): PartitionLag {
  const from = committed === null ? low : Math.max(committed, low);
  return { partition, high, low, committed, lag: Math.max(0, high - from) };
}

function assignedPartitions(assignment: Buffer, topic: string): number[] {
  if (assignment.length === 0) return [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
    return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
  } catch {
    // Another client's assignment format: the member is shown, its partitions are not.
    return [];
  }
}
