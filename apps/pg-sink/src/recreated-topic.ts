import type { Logger } from "@weather/service-kit";
import type { Admin } from "kafkajs";
import type { Sql } from "postgres";
import type { SinkConfig } from "./config.ts";
import type { DatabasePool } from "./database.ts";
import { OFFSETS_TABLE } from "./sql/tables.ts";

/** A partition whose stored offset lay beyond the topic's end, and where it now starts again. */
export interface RewoundPartition {
  readonly partition: number;
  readonly stored: bigint;
  readonly high: bigint;
  readonly restartAt: bigint;
}

/** Each partition's log start and high watermark, as admin.fetchTopicOffsets gives them. */
export type Watermarks = readonly { partition: number; low: string; high: string }[];

/**
 * A stored next offset can never lie beyond a partition's high watermark while it is the same
 * topic: offsets only grow. When one does, the topic was deleted and created again, or Kafka was
 * reset, and the stored offset belongs to a log that no longer exists; trusting it would skip the
 * new log's first messages. Such partitions start again from the log's start. Nothing is stored
 * twice by that: rows are unique by (city, reading_id), so a reading already held is recognised.
 *
 * The order matters, because other instances keep storing while this one starts: the stored
 * offsets are read first and the watermarks fetched after, so a stored offset compared is never
 * newer than the watermark it is compared with (a watermark fetched first is overtaken within
 * milliseconds by a busy group, and read as a recreated topic it rewound live partitions to 0:
 * the three-broker scale-out test caught thousands of readings read twice). The rewind is then a
 * compare-and-set on the offset read: a partition another instance moved meanwhile is left alone,
 * and two instances starting at once rewind a partition only once.
 */
export async function rewindOffsetsBeyondEnd(
  sql: Sql,
  group: string,
  topic: string,
  fetchWatermarks: () => Promise<Watermarks>,
): Promise<RewoundPartition[]> {
  const stored = await sql<{ partition: number; next: string }[]>`
    select partition, next_offset::text as next from ${sql(OFFSETS_TABLE)}
    where consumer_group = ${group} and topic = ${topic}`;
  if (stored.length === 0) return [];
  const watermarks = new Map((await fetchWatermarks()).map((w) => [w.partition, w]));
  const rewound: RewoundPartition[] = [];
  for (const { partition, next } of stored) {
    const w = watermarks.get(partition);
    // A partition the topic no longer has is left alone: no consumer is ever assigned it.
    if (w === undefined || BigInt(next) <= BigInt(w.high)) continue;
    const [row] = await sql`
      update ${sql(OFFSETS_TABLE)} set next_offset = ${w.low}::bigint, updated_at = now()
      where consumer_group = ${group} and topic = ${topic} and partition = ${partition}
        and next_offset = ${next}::bigint
      returning partition`;
    if (row) {
      rewound.push({ partition, stored: BigInt(next), high: BigInt(w.high), restartAt: BigInt(w.low) });
    }
  }
  return rewound;
}

/**
 * Checks the stored offsets against the topic before consuming (see rewindOffsetsBeyondEnd). A
 * failure here is not fatal: the batches' own checks still hold; the warning says what was missed.
 */
export async function rewindIfTopicWasRecreated(
  admin: Admin,
  database: DatabasePool,
  config: Pick<SinkConfig, "sinkGroup" | "topics">,
  logger: Logger,
): Promise<void> {
  try {
    const rewound = await rewindOffsetsBeyondEnd(
      database.current(),
      config.sinkGroup,
      config.topics.readings,
      () => admin.fetchTopicOffsets(config.topics.readings),
    );
    for (const r of rewound) {
      logger.warn(
        {
          topic: config.topics.readings,
          partition: r.partition,
          stored: String(r.stored),
          end: String(r.high),
        },
        `stored offset ${r.stored} of ${config.topics.readings}[${r.partition}] lies beyond the partition's end ${r.high}: ` +
          `the topic was recreated or Kafka reset; reading it again from ${r.restartAt} (readings already stored are recognised by id)`,
      );
    }
  } catch (error) {
    logger.warn(
      { err: error },
      "could not compare stored offsets with the topic's end; a recreated topic would go unnoticed",
    );
  }
}
