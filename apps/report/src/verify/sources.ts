/**
 * Where verify's evidence comes from: the offsets the sink stored (PostgreSQL's consumer_offsets),
 * the rows and recorded re-sends with their source offsets (PostgreSQL), the dead letters with the
 * source they name (the dead-letter topic's headers), and what Kafka returns of the topic.
 */
import {
  consumerOffsets,
  readingResends,
  type StoredChecksum,
  storedReadingsChecksums,
  weatherReadings,
} from "@weather/db";
import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { readTopicToEnd } from "@weather/service-kit";
import { getTableName } from "drizzle-orm";
import type { Admin, IHeaders, Kafka } from "kafkajs";
import type { Sql } from "postgres";
import type { PartitionBounds, PartitionLedger } from "./accounting.ts";

const READINGS = getTableName(weatherReadings);
const RESENDS = getTableName(readingResends);
const OFFSETS = getTableName(consumerOffsets);

/** Rows are streamed this many at a time. */
const CURSOR_ROWS = 20_000;

/**
 * Kafka is read in fetches of at most 1 MiB per partition (4 MiB in all): verify keeps nothing of
 * a message but its offset, and a year of readings (a million offsets) read in 16 MiB fetches held
 * 850 MiB at its peak against 300 here, and spent longer collecting garbage (apps/report/README.md).
 */
const FETCH_BYTES = { perPartition: 1 << 20, total: 4 << 20 };

/** Each partition's log start, high watermark and the offset the group stored. */
export async function partitionBounds(
  admin: Admin,
  sql: Sql,
  topic: string,
  group: string,
): Promise<PartitionBounds[]> {
  const [watermarks, stored] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    sql<{ partition: number; next: string }[]>`
      select partition, next_offset::text as next from ${sql(OFFSETS)}
      where consumer_group = ${group} and topic = ${topic}`,
  ]);
  const storedBy = new Map(stored.map((row) => [row.partition, BigInt(row.next)]));
  return watermarks
    .map((w) => ({
      partition: w.partition,
      low: BigInt(w.low),
      high: BigInt(w.high),
      stored: storedBy.get(w.partition) ?? 0n,
    }))
    .sort((a, b) => a.partition - b.partition);
}

/** Marks every record Kafka returns below each partition's stored offset. */
export async function markReturned(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  ledgers: ReadonlyMap<number, PartitionLedger>,
): Promise<void> {
  const until = new Map([...ledgers].map(([partition, ledger]) => [partition, ledger.bounds.stored]));
  await readTopicToEnd(
    kafka,
    admin,
    topic,
    (partition, messages) => {
      const ledger = ledgers.get(partition);
      if (ledger === undefined) return;
      for (const message of messages) ledger.returned(BigInt(message.offset));
    },
    { until, fetchBytes: FETCH_BYTES },
  );
}

/**
 * Marks each stored row and each recorded re-send of the topic at its source offset: one pass over
 * each table, streamed (a cursor), so millions of rows never sit in memory at once. Two rows of one
 * offset are counted twice: the ledger reports them as a duplicate.
 */
export async function markStored(
  sql: Sql,
  topic: string,
  ledgers: ReadonlyMap<number, PartitionLedger>,
): Promise<void> {
  for (const [table, mark] of [
    [READINGS, (ledger: PartitionLedger, offset: bigint) => ledger.row(offset)],
    [RESENDS, (ledger: PartitionLedger, offset: bigint) => ledger.resend(offset)],
  ] as const) {
    const rows = sql<{ partition: number; offset: string }[]>`
      select source_partition as partition, source_offset::text as offset from ${sql(table)}
      where source_topic = ${topic}`.cursor(CURSOR_ROWS);
    for await (const page of rows) {
      for (const row of page) {
        const ledger = ledgers.get(row.partition);
        if (ledger !== undefined) mark(ledger, BigInt(row.offset));
      }
    }
  }
}

const textOf = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** What a dead letter says of itself: where it came from and why. */
export interface DeadLetterSource {
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: bigint | undefined;
  readonly kind: string | undefined;
}

function deadLetterSource(headers: IHeaders | undefined): DeadLetterSource {
  const partition = textOf(headers, DEAD_LETTER_HEADERS.sourcePartition);
  const offset = textOf(headers, DEAD_LETTER_HEADERS.sourceOffset);
  return {
    topic: textOf(headers, DEAD_LETTER_HEADERS.sourceTopic),
    partition: partition === undefined ? undefined : Number(partition),
    offset: offset === undefined || !/^\d+$/.test(offset) ? undefined : BigInt(offset),
    kind: textOf(headers, DEAD_LETTER_HEADERS.errorKind),
  };
}

/**
 * Marks each dead letter of the topic at the source offset its headers name, and counts the
 * offsets dead-lettered by the sink's kind. Letters naming another topic (several topics sharing a dead-letter topic) are
 * left out; letters naming no source cannot be placed and are counted apart.
 */
export async function markDeadLetters(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  deadLetterTopic: string,
  ledgers: ReadonlyMap<number, PartitionLedger>,
): Promise<{ readonly byKind: Record<string, number>; readonly unplaced: number }> {
  const byKind: Record<string, number> = {};
  // A letter sent twice (a crash between the send and the sink's commit) counts once by kind.
  const counted = new Set<string>();
  let unplaced = 0;
  await readTopicToEnd(
    kafka,
    admin,
    deadLetterTopic,
    (_partition, messages) => {
      for (const message of messages) {
        const source = deadLetterSource(message.headers);
        if (source.topic !== undefined && source.topic !== topic) continue;
        const ledger = source.partition === undefined ? undefined : ledgers.get(source.partition);
        if (ledger === undefined || source.offset === undefined) {
          unplaced++;
          continue;
        }
        ledger.deadLetter(source.offset);
        const at = `${source.partition}:${source.offset}`;
        if (counted.has(at)) continue;
        counted.add(at);
        const kind = source.kind ?? "(no kind)";
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      }
    },
    { fetchBytes: FETCH_BYTES },
  );
  return { byKind, unplaced };
}

/** Reading ids stored more than once (under another city or observation time), and re-sends of nothing. */
export async function storedAnomalies(
  sql: Sql,
  topic: string,
): Promise<{ readonly idsStoredTwice: number; readonly resendsOfNothing: number }> {
  const [twice] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select reading_id from ${sql(READINGS)} group by reading_id having count(*) > 1) as d`;
  const [orphans] = await sql<{ n: number }[]>`
    select count(*)::int as n from ${sql(RESENDS)} r
    where r.source_topic = ${topic} and not exists (
      select 1 from ${sql(READINGS)} w
      where w.city = r.city and w.reading_id = r.reading_id and w.observed_at = r.observed_at)`;
  return { idsStoredTwice: twice?.n ?? 0, resendsOfNothing: orphans?.n ?? 0 };
}

/** What the manifest is compared with: each city's rows and checksum, and the rows per station. */
export interface StoredCounts {
  readonly cities: readonly StoredChecksum[];
  readonly byStation: ReadonlyMap<string, number>;
}

export async function storedCounts(sql: Sql): Promise<StoredCounts> {
  const { cities } = await storedReadingsChecksums(sql);
  const stations = await sql<{ station: string; n: number }[]>`
    select station_id as station, count(*)::int as n from ${sql(READINGS)} group by station_id`;
  return { cities, byStation: new Map(stations.map((row) => [row.station, row.n])) };
}
