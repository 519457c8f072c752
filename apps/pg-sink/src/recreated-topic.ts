import type { Logger } from "@weather/service-kit";
import type { Admin } from "kafkajs";
import type { Sql } from "postgres";
import type { SinkConfig } from "./config.ts";
import type { DatabasePool } from "./database.ts";
import { OFFSETS_TABLE } from "./offsets.ts";

/** A partition whose stored offset lay beyond the topic's end, and where it now starts again. */
interface RewoundPartition {
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
async function rewindOffsetsBeyondEnd(
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

/**
 * Checks the stored offsets against the topic before consuming (see rewindOffsetsBeyondEnd). A
 * failure here is not fatal: the batches' own checks still hold; the warning says what was missed.
 */
export async function rewindIfTopicWasRecreated(
  admin: Admin,
  database: DatabasePool,
  config: Pick<SinkConfig, "groupId" | "readingsTopic">,
  logger: Logger,
): Promise<void> {
  try {
    const watermarks = await admin.fetchTopicOffsets(config.readingsTopic);
    const rewound = await rewindOffsetsBeyondEnd(
      database.current(),
      config.groupId,
      config.readingsTopic,
      watermarks,
    );
    for (const r of rewound) {
      logger.warn(
        {
          topic: config.readingsTopic,
          partition: r.partition,
          stored: String(r.stored),
          end: String(r.high),
        },
        `stored offset ${r.stored} of ${config.readingsTopic}[${r.partition}] lies beyond the partition's end ${r.high}: ` +
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
