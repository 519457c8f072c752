import { consumerOffsets } from "@weather/db";
import { getTableName } from "drizzle-orm";
import type { TransactionSql } from "postgres";

/** The unit whose progress the sink stores: one partition of one topic, for one consumer group. */
export interface PartitionKey {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

/** Where each partition's next offset is stored, next to the rows it covers. */
export const OFFSETS_TABLE = getTableName(consumerOffsets);

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
