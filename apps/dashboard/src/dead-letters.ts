import { randomUUID } from "node:crypto";
import { DASHBOARD_READ_GROUP_PREFIX, DEAD_LETTER_HEADERS } from "@weather/schema";
import type { Admin, IHeaders, Kafka, KafkaMessage } from "kafkajs";

/** One dead letter, as the headers the sink wrote say. */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: number;
  /** When the sink wrote it (the Kafka timestamp), ISO 8601. */
  readonly at: string;
  /** Short stable reason: bad-magic-byte, unknown-schema, undecodable, invalid-reading, no-table, ... */
  readonly reason: string;
  readonly errorClass: string;
  readonly message: string;
  readonly source: string;
}

export interface DeadLettersSummary {
  readonly topic: string;
  /** Start of the window (an hour ago), ISO 8601. */
  readonly since: string;
  readonly total: number;
  /** Count per reason, largest first. */
  readonly byReason: readonly { readonly reason: string; readonly count: number }[];
  /** The newest letters, newest first. */
  readonly latest: readonly DeadLetter[];
}

const WINDOW_MS = 60 * 60_000;
const LATEST_SHOWN = 20;
/** Letters remembered at most; a storm beyond this keeps the newest and says the count is a floor. */
const MAX_KEPT = 100_000;

/**
 * The dead letters of the last hour, read from the dead-letter topic itself. The first refresh
 * starts each partition at the first offset of the hour (Kafka's offsets-by-timestamp); later ones
 * read only what was appended since, and only when a high watermark moved, so a quiet topic costs
 * one metadata request per refresh. Each read goes through a throwaway consumer group that seeks to
 * the wanted offsets, commits nothing and is deleted afterwards.
 */
export class DeadLetterWindow {
  private readonly next = new Map<number, number>();
  private letters: DeadLetter[] = [];
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly readTimeoutMs: number;

  constructor(kafka: Kafka, topic: string, readTimeoutMs: number) {
    this.kafka = kafka;
    this.topic = topic;
    this.readTimeoutMs = readTimeoutMs;
  }

  async refresh(admin: Admin, now: Date): Promise<DeadLettersSummary> {
    const since = now.getTime() - WINDOW_MS;
    const highs = await admin.fetchTopicOffsets(this.topic);
    if (highs.some((p) => !this.next.has(p.partition))) {
      for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(this.topic, since)) {
        if (!this.next.has(partition)) this.next.set(partition, Number(offset));
      }
    }
    for (const { partition, high, low } of highs) {
      // Beyond the end: the topic was recreated; read the new one from its start.
      if ((this.next.get(partition) ?? 0) > Number(high)) this.next.set(partition, Number(low));
    }
    const ranges = highs
      .map(({ partition, high, low }) => ({
        partition,
        // A partition trimmed by retention past where we were starts at what is left.
        from: Math.max(this.next.get(partition) ?? Number(high), Number(low)),
        to: Number(high),
      }))
      .filter((range) => range.from < range.to);
    if (ranges.length > 0) {
      const read = await readRanges(this.kafka, admin, this.topic, ranges, this.readTimeoutMs);
      for (const range of ranges) this.next.set(range.partition, range.to);
      this.letters.push(...read.map((m) => toDeadLetter(m)));
      this.letters.sort((a, b) => a.at.localeCompare(b.at));
    }
    this.letters = this.letters.filter((letter) => Date.parse(letter.at) >= since).slice(-MAX_KEPT);
    return this.summary(new Date(since));
  }

  private summary(since: Date): DeadLettersSummary {
    const counts = new Map<string, number>();
    for (const letter of this.letters) counts.set(letter.reason, (counts.get(letter.reason) ?? 0) + 1);
    return {
      topic: this.topic,
      since: since.toISOString(),
      total: this.letters.length,
      byReason: [...counts]
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      latest: this.letters.slice(-LATEST_SHOWN).reverse(),
    };
  }
}

type PartitionedMessage = KafkaMessage & { partition: number };

/** The messages at [from, to) of each partition; `to` is a high watermark taken before the read. */
async function readRanges(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  ranges: readonly { partition: number; from: number; to: number }[],
  timeoutMs: number,
): Promise<PartitionedMessage[]> {
  const groupId = `${DASHBOARD_READ_GROUP_PREFIX}${randomUUID()}`;
  const pending = new Map(ranges.map((r) => [r.partition, r.to]));
  const messages: PartitionedMessage[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, retry: { retries: 2 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the dead-letter topic ${topic} was not read within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      const run = async () => {
        await consumer.connect();
        await consumer.subscribe({ topic });
        // A fresh group has no offsets: the seeks decide where each partition starts. They are made
        // right after run() is called, before it joins the group, as kafkajs documents; after the
        // join the first fetch could already start at the end of the partitions.
        const running = consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = pending.get(batch.partition);
            if (end === undefined) return;
            for (const message of batch.messages) {
              if (Number(message.offset) < end) messages.push({ ...message, partition: batch.partition });
            }
            const last = batch.messages.at(-1);
            if (last && Number(last.offset) + 1 >= end) pending.delete(batch.partition);
            if (pending.size === 0) resolve();
          },
        });
        for (const range of ranges)
          consumer.seek({ topic, partition: range.partition, offset: String(range.from) });
        await running;
      };
      run().catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
  return messages;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** What toDeadLetter reads of a fetched message. */
export interface FetchedLetter {
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string;
  readonly headers?: IHeaders | undefined;
}

export function toDeadLetter(message: FetchedLetter): DeadLetter {
  const h = (name: string) => header(message.headers, name);
  const sourceTopic = h(DEAD_LETTER_HEADERS.sourceTopic);
  const sourcePartition = h(DEAD_LETTER_HEADERS.sourcePartition);
  const sourceOffset = h(DEAD_LETTER_HEADERS.sourceOffset);
  return {
    partition: message.partition,
    offset: Number(message.offset),
    at: new Date(Number(message.timestamp)).toISOString(),
    reason: h(DEAD_LETTER_HEADERS.errorKind) ?? "unknown",
    errorClass: h(DEAD_LETTER_HEADERS.errorClass) ?? "",
    message: (h(DEAD_LETTER_HEADERS.errorMessage) ?? "(no reason given)").slice(0, 300),
    source:
      sourceTopic !== undefined
        ? `${sourceTopic}[${sourcePartition ?? "?"}]@${sourceOffset ?? "?"}`
        : "(unknown)",
  };
}
