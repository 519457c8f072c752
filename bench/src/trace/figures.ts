import { type Figure, figure } from "../report.ts";
import { type FetchSummary, type LatencyBreakdown, PHASES, type TransactionSummary } from "./breakdown.ts";
import type { MemoryTrace } from "./recorder.ts";

/** The tables the breakdowns are printed in. */
export const LATENCY_SECTION = "Latency: where it goes";
export const MEMORY_SECTION = "Memory: where it goes";

type Peak = NonNullable<MemoryTrace["peak"]>;

/**
 * What a process held at its highest RSS, as it saw it: V8's heap (its young generation, the
 * semi-spaces, and its old generation), memory outside the heap (Buffers' backing stores), and the
 * rest (the node binary's pages, compiled code, malloc'd memory of node and its libraries).
 */
export function memoryFigures(key: string, of: string, peaks: readonly (Peak | undefined)[]): Figure[] {
  const part = (name: string, label: string, value: (peak: Peak) => number) =>
    figure(
      `${key}.${name}`,
      `${label}, ${of}`,
      "MiB",
      peaks.map((peak) => (peak === undefined ? Number.NaN : value(peak))),
      undefined,
      MEMORY_SECTION,
    );
  return [
    part("rssAtPeak", "RSS at the sampled peak (process.memoryUsage, every 100 ms)", (p) => p.rss),
    part("heapTotal", "  V8 heap committed", (p) => p.heapTotal),
    part("newSpace", "    of which young generation (semi-spaces)", (p) => p.spaces.new_space ?? Number.NaN),
    part("oldSpace", "    of which old generation", (p) => p.spaces.old_space ?? Number.NaN),
    part("heapUsed", "  V8 heap in use", (p) => p.heapUsed),
    part("external", "  outside the heap (Buffers and other external memory)", (p) => p.external),
    part("rest", "  the rest (RSS - heap - external)", (p) => p.rss - p.heapTotal - p.external),
    part("rssFile", "    of which file pages: node's binary, libraries (RssFile)", (p) => p.rssFile),
    part(
      "anonRest",
      "    of which other anonymous memory: malloc, thread stacks, V8 outside its heap",
      (p) => p.rssAnon - p.heapTotal - p.external,
    ),
  ];
}

export function fetchFigures(
  key: string,
  of: string,
  fetches: readonly (FetchSummary | undefined)[],
): Figure[] {
  const values = (value: (f: FetchSummary) => number) =>
    fetches.map((f) => (f === undefined ? Number.NaN : value(f)));
  return [
    figure(
      `${key}.fetchBytes`,
      `Fetch answer, median size, ${of}`,
      "MiB",
      values((f) => f.bytes.p50),
      undefined,
      MEMORY_SECTION,
    ),
    figure(
      `${key}.fetchBytesMax`,
      `Fetch answer, largest, ${of}`,
      "MiB",
      values((f) => f.maxBytes),
      undefined,
      MEMORY_SECTION,
    ),
    figure(
      `${key}.batchesPerFetch`,
      `partitions with data per Fetch answer, ${of}`,
      "",
      values((f) => f.batchesPerFetch),
      undefined,
      MEMORY_SECTION,
    ),
    figure(
      `${key}.batchMessagesMax`,
      `messages in one partition's batch, largest, ${of}`,
      "",
      values((f) => f.maxMessagesPerBatch),
      undefined,
      MEMORY_SECTION,
    ),
  ];
}

export function transactionFigures(
  key: string,
  of: string,
  summaries: readonly (TransactionSummary | undefined)[],
  section: string,
): Figure[] {
  const values = (value: (t: TransactionSummary) => number) =>
    summaries.map((t) => (t === undefined ? Number.NaN : value(t)));
  const typical = summaries.find((t) => t !== undefined);
  const steps = (typical?.steps ?? []).map((step, i) =>
    figure(
      `${key}.tx.rt${i + 1}`,
      `  round trip ${i + 1}, ${step.label}: server p50 (client before it p50), ${of}`,
      "ms",
      values((t) => t.steps[i]?.serverMs.p50 ?? Number.NaN),
      undefined,
      section,
    ),
  );
  return [
    figure(
      `${key}.tx.rows`,
      `rows per transaction, p50, ${of}`,
      "",
      values((t) => t.rows.p50),
      undefined,
      section,
    ),
    figure(
      `${key}.tx.roundTrips`,
      `round trips per transaction, p50, ${of}`,
      "",
      values((t) => t.roundTrips.p50),
      undefined,
      section,
    ),
    ...steps,
    figure(
      `${key}.tx.ms`,
      `transaction, BEGIN -> COMMIT answered, p50, ${of}`,
      "ms",
      values((t) => t.durationMs.p50),
      undefined,
      section,
    ),
    figure(
      `${key}.tx.msP99`,
      `transaction, BEGIN -> COMMIT answered, p99, ${of}`,
      "ms",
      values((t) => t.durationMs.p99),
      undefined,
      section,
    ),
    figure(
      `${key}.tx.commitMs`,
      `COMMIT alone, p50, ${of}`,
      "ms",
      values((t) => t.commitMs.p50),
      undefined,
      section,
    ),
  ];
}

/** Each step of send -> row visible, p50 and p99, for the sink and (Kafka's steps only) the plain consumer. */
export function latencyFigures(
  key: string,
  of: string,
  runs: readonly (LatencyBreakdown | undefined)[],
  plain: readonly (LatencyBreakdown | undefined)[],
): Figure[] {
  const values = (from: readonly (LatencyBreakdown | undefined)[], value: (b: LatencyBreakdown) => number) =>
    from.map((b) => (b === undefined ? Number.NaN : value(b)));
  const phases = PHASES.flatMap(([name, label]) => [
    figure(
      `${key}.phase.${name}.p50`,
      `${label}: p50, ${of}`,
      "ms",
      values(runs, (b) => b.phases[name].p50),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.phase.${name}.p99`,
      `  p99`,
      "ms",
      values(runs, (b) => b.phases[name].p99),
      undefined,
      LATENCY_SECTION,
    ),
  ]);
  return [
    ...phases,
    figure(
      `${key}.produceAck.p50`,
      `send -> producer's acks=all answer (beside the chain): p50, ${of}`,
      "ms",
      values(runs, (b) => b.produceAck.p50),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.produceAck.p99`,
      "  p99",
      "ms",
      values(runs, (b) => b.produceAck.p99),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.waitedForFetch`,
      `messages appended before the sink asked for them (it was busy), share, ${of}`,
      "%",
      values(runs, (b) => b.waitedShare),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.plain.kafka.p50`,
      `plain kafkajs consumer: send -> Fetch answer, p50, ${of}`,
      "ms",
      values(plain, (b) => b.phases.kafka.p50),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.plain.kafka.p99`,
      "  p99",
      "ms",
      values(plain, (b) => b.phases.kafka.p99),
      undefined,
      LATENCY_SECTION,
    ),
    figure(
      `${key}.plain.handOver.p50`,
      `plain kafkajs consumer: Fetch answer -> eachBatch, p50, ${of}`,
      "ms",
      values(plain, (b) => b.phases.handOver.p50),
      undefined,
      LATENCY_SECTION,
    ),
    ...transactionFigures(
      key,
      of,
      runs.map((b) => b?.transactions),
      LATENCY_SECTION,
    ),
    figure(
      `${key}.batchesPerFetch`,
      `partitions with data per Fetch answer, ${of}`,
      "",
      values(runs, (b) => b.fetches.batchesPerFetch),
      undefined,
      LATENCY_SECTION,
    ),
  ];
}
