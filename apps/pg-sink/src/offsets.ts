/** One partition of one topic: where a chunk's messages come from. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The unit whose progress the sink stores: one partition of one topic, for one consumer group. */
export interface PartitionKey extends TopicPartition {
  readonly group: string;
}

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
