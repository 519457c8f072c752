import { consumerOffsets } from "@weather/db";
import { getTableName } from "drizzle-orm";
import type { Sql, TransactionSql } from "postgres";

/** The unit whose progress the sink stores: one partition of one topic, for one consumer group. */
export interface PartitionKey {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

const OFFSETS_TABLE = getTableName(consumerOffsets);

export type ChunkPlan<M> =
  /** Store `fresh`; `alreadyStored` messages sit below the stored offset and are dropped. */
  | { readonly kind: "store"; readonly fresh: readonly M[]; readonly alreadyStored: number }
  /**
   * The chunk starts after the stored offset: something between was never stored. Fetch again
   * from the stored offset rather than leave a gap.
   */
  | { readonly kind: "seek"; readonly offset: bigint };

/**
 * Decides what to do with a chunk of messages given the partition's stored next offset, which is
 * the truth about what PostgreSQL holds. `soughtTo` is the offset this process last sought to on
 * the partition: when a seek to the stored offset still yields a later first message, the log
 * itself has a hole there (retention, compaction, transaction markers), and the chunk is accepted.
 */
export function planChunk<M extends { readonly offset: string }>(
  /** In offset order. */
  messages: readonly M[],
  storedNext: bigint,
  soughtTo: bigint | undefined,
): ChunkPlan<M> {
  const first = messages[0];
  if (first !== undefined && BigInt(first.offset) > storedNext && soughtTo !== storedNext) {
    return { kind: "seek", offset: storedNext };
  }
  // Messages come in offset order, so those already stored are a prefix: usually none, and the
  // common case compares one offset, not one per message.
  let firstFresh = 0;
  while (firstFresh < messages.length && BigInt((messages[firstFresh] as M).offset) < storedNext)
    firstFresh++;
  const fresh = firstFresh === 0 ? messages : messages.slice(firstFresh);
  return { kind: "store", fresh, alreadyStored: firstFresh };
}

/**
 * The offset after a chunk. For the batch's last chunk this is past kafkajs's lastOffset(), which
 * also covers records it filtered out (transaction markers, aborted records), so the stored offset
 * reaches the high watermark and `--until-caught-up` can finish.
 */
export function nextOffsetAfter(lastMessageOffset: string, batchLastOffset?: string): bigint {
  const afterMessage = BigInt(lastMessageOffset) + 1n;
  if (batchLastOffset === undefined) return afterMessage;
  return laterOf(BigInt(batchLastOffset) + 1n, afterMessage);
}

/** The larger of two offsets (Math.max takes no bigint). */
export function laterOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * Locks the partition's offsets row for the rest of the transaction and returns its next offset.
 * A second instance working on the same partition (a rebalance in progress, a zombie) waits here,
 * then reads the offset the first one committed and drops what is already stored. An absent row
 * means nothing was stored yet: it starts at 0, and planChunk sorts out logs that start later.
 */
export async function lockNextOffset(tx: TransactionSql, key: PartitionKey): Promise<bigint> {
  // Both sent at once (postgres.js pipelines them): one round trip.
  const created = tx`
    insert into ${tx(OFFSETS_TABLE)} (consumer_group, topic, partition, next_offset)
    values (${key.group}, ${key.topic}, ${key.partition}, 0)
    on conflict (consumer_group, topic, partition) do nothing`.execute();
  const locked = tx<{ next: string }[]>`
    select next_offset::text as next from ${tx(OFFSETS_TABLE)}
    where consumer_group = ${key.group} and topic = ${key.topic} and partition = ${key.partition}
    for update`.execute();
  await created;
  const [row] = await locked;
  if (!row) throw new Error(`offsets row of ${key.topic}[${key.partition}] vanished inside its transaction`);
  return BigInt(row.next);
}

/**
 * Moves the partition's stored offset. The statement is sent at once, before this returns, so a
 * caller can rely on its place in the connection's order (writeChunk sends it before its savepoint).
 */
export function saveNextOffset(tx: TransactionSql, key: PartitionKey, next: bigint): Promise<unknown> {
  return tx`
    update ${tx(OFFSETS_TABLE)} set next_offset = ${next.toString()}::bigint, updated_at = now()
    where consumer_group = ${key.group} and topic = ${key.topic} and partition = ${key.partition}`.execute();
}

/** Every stored next offset of a group on a topic, by partition. */
export async function readStoredOffsets(
  sql: Sql,
  group: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const rows = await sql<{ partition: number; next: string }[]>`
    select partition, next_offset::text as next from ${sql(OFFSETS_TABLE)}
    where consumer_group = ${group} and topic = ${topic}`;
  return new Map(rows.map((r) => [r.partition, BigInt(r.next)]));
}

/** A partition whose stored offset lay beyond the topic's end, and where it now starts again. */
export interface RewoundPartition {
  readonly partition: number;
  readonly stored: bigint;
  readonly high: bigint;
  readonly restartAt: bigint;
}

/**
 * A stored next offset can never lie beyond a partition's high watermark while it is the same
 * topic: offsets only grow. When one does, the topic was deleted and created again, or Kafka was
 * reset, and the stored offset belongs to a log that no longer exists; trusting it would skip the
 * new log's first messages. Such partitions start again from the log's start. Nothing is stored
 * twice by that: rows are unique by (city, reading_id), so a reading already held is recognised.
 * The update is conditional, so two instances starting at once rewind a partition only once.
 */
export async function rewindOffsetsBeyondEnd(
  sql: Sql,
  group: string,
  topic: string,
  watermarks: readonly { partition: number; low: string; high: string }[],
): Promise<RewoundPartition[]> {
  const rewound: RewoundPartition[] = [];
  for (const w of watermarks) {
    const [row] = await sql<{ stored: string }[]>`
      update ${sql(OFFSETS_TABLE)} as o set next_offset = ${w.low}::bigint, updated_at = now()
      from (select next_offset from ${sql(OFFSETS_TABLE)}
            where consumer_group = ${group} and topic = ${topic} and partition = ${w.partition}
            for update) as before
      where o.consumer_group = ${group} and o.topic = ${topic} and o.partition = ${w.partition}
        and o.next_offset > ${w.high}::bigint
      returning before.next_offset::text as stored`;
    if (row) {
      rewound.push({
        partition: w.partition,
        stored: BigInt(row.stored),
        high: BigInt(w.high),
        restartAt: BigInt(w.low),
      });
    }
  }
  return rewound;
}
