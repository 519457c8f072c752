import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@weather/service-kit";
import type { Admin } from "kafkajs";
import type { Sql } from "postgres";
import type { SinkConfig } from "./config.ts";
import type { DatabasePool } from "./database.ts";
import { OFFSETS_TABLE } from "./sql/tables.ts";

const CAUGHT_UP_POLL_MS = 1_000;

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

/** Every stored next offset of a group on a topic, by partition. */
async function readStoredOffsets(sql: Sql, group: string, topic: string): Promise<Map<number, bigint>> {
  const rows = await sql<{ partition: number; next: string }[]>`
    select partition, next_offset::text as next from ${sql(OFFSETS_TABLE)}
    where consumer_group = ${group} and topic = ${topic}`;
  return new Map(rows.map((r) => [r.partition, BigInt(r.next)]));
}

/**
 * `--until-caught-up`: resolves once PostgreSQL holds every partition of the topic up to Kafka's
 * high watermark. Never resolves once `signal` aborts: the caller is already shutting down.
 */
export async function pollUntilCaughtUp(
  admin: Admin,
  database: DatabasePool,
  config: Pick<SinkConfig, "sinkGroup" | "topics">,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const [watermarks, stored] = await Promise.all([
        admin.fetchTopicOffsets(config.topics.readings),
        readStoredOffsets(database.current(), config.sinkGroup, config.topics.readings),
      ]);
      if (isCaughtUp(watermarks, stored)) {
        logger.info({ topic: config.topics.readings }, "caught up: every partition is stored to its end");
        return;
      }
    } catch (error) {
      logger.debug({ err: error }, "caught-up check failed; trying again");
    }
    await sleep(CAUGHT_UP_POLL_MS, undefined, { signal }).catch(() => {});
  }
  // Stopped before catching up: never resolve, the caller is already shutting down.
  await new Promise<void>(() => {});
}
