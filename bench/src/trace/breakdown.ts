import { percentile } from "../stats.ts";
import type { TransactionTrace } from "./pg-transactions.ts";
import type { BatchTrace, KafkaRequest, WorkerTrace } from "./recorder.ts";

/** A message of the measured stream: where it is and its Kafka timestamp (CreateTime, ms). */
export interface MessageStamp {
  readonly partition: number;
  readonly offset: number;
  readonly sentAt: number;
}

export interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly samples: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, samples: sorted.length };
}

/**
 * The steps of a message from send to row visible, in order; each is the time from the previous
 * step's end to its own, per message.
 */
export const PHASES = [
  ["kafka", "send -> the Fetch answer carrying it arrives (produce, append, fetch)"],
  ["handOver", "Fetch answer -> eachBatch starts (kafkajs decodes the answer, queues the batch)"],
  ["prepare", "eachBatch start -> BEGIN written (decode and encode the chunk, take a connection)"],
  ["statements", "BEGIN -> COMMIT written (the transaction's statements and COPY)"],
  ["commit", "COMMIT written -> answered (WAL flush)"],
  ["visible", "COMMIT answered -> the bench's NOTIFY arrives"],
] as const;
export type Phase = (typeof PHASES)[number][0];

export interface TransactionSummary {
  readonly count: number;
  /** Round trips per transaction (client waits for the server). */
  readonly roundTrips: Spread;
  /** The commonest sequence of round trips, e.g. "begin | insert consumer_offsets + select | …". */
  readonly typical: string;
  /** Per round trip of the typical sequence: the server's and the client's share, ms. */
  readonly steps: readonly {
    readonly label: string;
    readonly serverMs: Spread;
    readonly clientMs: Spread;
  }[];
  readonly durationMs: Spread;
  readonly commitMs: Spread;
  readonly rows: Spread;
}

export interface FetchSummary {
  readonly count: number;
  /** Bytes of each Fetch answer that carried messages (the empty ones of an idle consumer left out). */
  readonly bytes: Spread;
  readonly maxBytes: number;
  /** Batches (partitions with data) per Fetch answer that carried any. */
  readonly batchesPerFetch: number;
  readonly messagesPerBatch: Spread;
  readonly maxMessagesPerBatch: number;
}

export interface LatencyBreakdown {
  /** Messages followed through every step. */
  readonly traced: number;
  readonly phases: Readonly<Record<Phase, Spread>>;
  /** Send -> the producer's acks=all answer (beside the chain: the fetch does not wait for it). */
  readonly produceAck: Spread;
  /**
   * How long a message sat in the log before the consumer sent the Fetch that returned it (the
   * consumer was busy with earlier batches): from its Produce answer to that Fetch's sending, or
   * 0 when a Fetch was already waiting; and the share of messages that waited at all.
   */
  readonly waitedForFetch: Spread;
  readonly waitedShare: number;
  readonly transactions: TransactionSummary | undefined;
  readonly fetches: FetchSummary;
}

/** The last item whose key is <= value, in items sorted by key. */
function lastAtOrBefore<T>(items: readonly T[], key: (item: T) => number, value: number): T | undefined {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(items[middle] as T) <= value) low = middle + 1;
    else high = middle;
  }
  return items[low - 1];
}

/** The first item whose key is >= value (or > value when strict), in items sorted by key. */
function firstFrom<T>(
  items: readonly T[],
  key: (item: T) => number,
  value: number,
  strict = false,
): T | undefined {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const k = key(items[middle] as T);
    if (strict ? k > value : k >= value) high = middle;
    else low = middle + 1;
  }
  return items[low];
}

function byPartition<T extends { readonly partition?: number }>(
  items: readonly T[],
  sortKey: (item: T) => number,
): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    if (item.partition === undefined) continue;
    const group = groups.get(item.partition) ?? [];
    group.push(item);
    groups.set(item.partition, group);
  }
  for (const group of groups.values()) group.sort((a, b) => sortKey(a) - sortKey(b));
  return groups;
}

export function summarizeTransactions(
  transactions: readonly TransactionTrace[],
): TransactionSummary | undefined {
  const chunks = transactions.filter((tx) => tx.outcome === "commit" && tx.nextOffset !== undefined);
  if (chunks.length === 0) return undefined;
  const sequences = new Map<string, TransactionTrace[]>();
  for (const tx of chunks) {
    const key = tx.roundTrips.map((trip) => trip.label).join(" | ");
    sequences.set(key, [...(sequences.get(key) ?? []), tx]);
  }
  const [typical, typicalTxs] = [...sequences.entries()].sort((a, b) => b[1].length - a[1].length)[0] as [
    string,
    TransactionTrace[],
  ];
  const steps = (typicalTxs[0]?.roundTrips ?? []).map((trip, i) => ({
    label: trip.label,
    serverMs: spreadOf(typicalTxs.map((tx) => tx.roundTrips[i]?.serverMs ?? Number.NaN)),
    clientMs: spreadOf(typicalTxs.map((tx) => tx.roundTrips[i]?.clientMs ?? Number.NaN)),
  }));
  // The bench's topics and groups are fresh: a partition's first transaction stored from offset 0.
  const rows: number[] = [];
  for (const group of byPartition(chunks, (tx) => tx.nextOffset ?? 0).values()) {
    for (let i = 0; i < group.length; i++)
      rows.push((group[i]?.nextOffset ?? 0) - (group[i - 1]?.nextOffset ?? 0));
  }
  return {
    count: chunks.length,
    roundTrips: spreadOf(chunks.map((tx) => tx.roundTrips.length)),
    typical,
    steps,
    durationMs: spreadOf(chunks.map((tx) => tx.endedAt - tx.beginAt)),
    commitMs: spreadOf(chunks.map((tx) => tx.endedAt - tx.endSentAt)),
    rows: spreadOf(rows),
  };
}

export function summarizeFetches(
  requests: readonly KafkaRequest[],
  batches: readonly BatchTrace[],
): FetchSummary {
  const fetches = requests.filter((r) => r.api === "Fetch").sort((a, b) => a.answeredAt - b.answeredAt);
  const perFetch = new Map<KafkaRequest, number>();
  for (const batch of batches) {
    const fetch = lastAtOrBefore(fetches, (f) => f.answeredAt, batch.startAt);
    if (fetch !== undefined) perFetch.set(fetch, (perFetch.get(fetch) ?? 0) + 1);
  }
  const counts = [...perFetch.values()];
  return {
    count: fetches.length,
    bytes: spreadOf([...perFetch.keys()].map((f) => f.size)),
    maxBytes: Math.max(0, ...fetches.map((f) => f.size)),
    batchesPerFetch: counts.length === 0 ? Number.NaN : counts.reduce((a, b) => a + b, 0) / counts.length,
    messagesPerBatch: spreadOf(batches.map((b) => b.messages)),
    maxMessagesPerBatch: Math.max(0, ...batches.map((b) => b.messages)),
  };
}

/**
 * Follows each message from its send through the consumer's trace (and, for the sink, its
 * transaction and the NOTIFY of its commit): which Produce request carried it (the first queued
 * at or after its CreateTime), which batch handed it to eachBatch (partition and offset range),
 * which Fetch answer brought that batch (the last to arrive before it started), which
 * transaction stored it (the first on its partition whose stored next offset passes it).
 * Messages that cannot be followed through every step are left out (`traced` counts the rest).
 */
export function breakDownLatency(input: {
  readonly messages: readonly MessageStamp[];
  readonly producer: WorkerTrace | undefined;
  /** The sink's trace, or the plain consumer's (then no transactions: only the Kafka steps). */
  readonly consumer: Pick<WorkerTrace, "requests" | "batches" | "transactions">;
  /** When the row of a message became visible, for the sink. */
  readonly visibleAt?: (partition: number, offset: number) => number | undefined;
}): LatencyBreakdown {
  const produces = (input.producer?.requests ?? [])
    .filter((r) => r.api === "Produce")
    .sort((a, b) => a.createdAt - b.createdAt);
  const fetches = input.consumer.requests
    .filter((r) => r.api === "Fetch")
    .sort((a, b) => a.answeredAt - b.answeredAt);
  const batches = byPartition(input.consumer.batches, (b) => b.firstOffset);
  const transactions = byPartition(
    input.consumer.transactions.filter((tx) => tx.outcome === "commit"),
    (tx) => tx.nextOffset ?? 0,
  );
  const withDatabase = input.visibleAt !== undefined;

  const phases: Record<Phase, number[]> = {
    kafka: [],
    handOver: [],
    prepare: [],
    statements: [],
    commit: [],
    visible: [],
  };
  const produceAck: number[] = [];
  const waited: number[] = [];
  let traced = 0;
  for (const message of input.messages) {
    const batch = lastAtOrBefore(batches.get(message.partition) ?? [], (b) => b.firstOffset, message.offset);
    if (batch === undefined || batch.lastOffset < message.offset) continue;
    const fetch = lastAtOrBefore(fetches, (f) => f.answeredAt, batch.startAt);
    if (fetch === undefined) continue;
    const produce = firstFrom(produces, (p) => p.createdAt, message.sentAt);
    if (produce !== undefined) {
      produceAck.push(produce.answeredAt - message.sentAt);
      waited.push(Math.max(0, fetch.sentAt - produce.answeredAt));
    }
    if (withDatabase) {
      const tx = firstFrom(
        transactions.get(message.partition) ?? [],
        (t) => t.nextOffset ?? 0,
        message.offset,
        true,
      );
      const visible = input.visibleAt?.(message.partition, message.offset);
      if (tx === undefined || visible === undefined || tx.beginAt < batch.startAt) continue;
      phases.prepare.push(tx.beginAt - batch.startAt);
      phases.statements.push(tx.endSentAt - tx.beginAt);
      phases.commit.push(tx.endedAt - tx.endSentAt);
      phases.visible.push(visible - tx.endedAt);
    }
    phases.kafka.push(fetch.answeredAt - message.sentAt);
    phases.handOver.push(batch.startAt - fetch.answeredAt);
    traced += 1;
  }
  return {
    traced,
    phases: Object.fromEntries(PHASES.map(([name]) => [name, spreadOf(phases[name])])) as Record<
      Phase,
      Spread
    >,
    produceAck: spreadOf(produceAck),
    waitedForFetch: spreadOf(waited),
    waitedShare: waited.length === 0 ? Number.NaN : waited.filter((w) => w > 0).length / waited.length,
    transactions: summarizeTransactions(input.consumer.transactions),
    fetches: summarizeFetches(fetches, input.consumer.batches),
  };
}
