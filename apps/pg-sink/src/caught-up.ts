/** A partition's offsets as kafkajs's admin.fetchTopicOffsets reports them. */
export interface Watermarks {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * Whether every partition is stored up to its high watermark. An empty partition (high = low) is
 * caught up without a stored row; any other needs its stored next offset to reach the high mark.
 */
export function isCaughtUp(watermarks: readonly Watermarks[], stored: ReadonlyMap<number, bigint>): boolean {
  return watermarks.every((w) => {
    const high = BigInt(w.high);
    if (high <= BigInt(w.low)) return true;
    const next = stored.get(w.partition);
    return next !== undefined && next >= high;
  });
}
