import { type Figure, inSection } from "../report.ts";
import { median } from "../stats.ts";
import { type FetchSummary, type LatencyBreakdown, PHASES, type TransactionSummary } from "./breakdown.ts";
import type { MemoryTrace } from "./recorder.ts";

/** The tables the breakdowns are printed in. */
export const LATENCY_SECTION = "Latency: where it goes";
export const MEMORY_SECTION = "Memory: where it goes";

/**
 * What a process held at its highest RSS, as it saw it: V8's heap (its young generation, the
 * semi-spaces, and its old generation), memory outside the heap (Buffers' backing stores), and the
 * rest (the node binary's pages, compiled code, malloc'd memory of node and its libraries).
 */
export function memoryFigures(
  key: string,
  of: string,
  traces: readonly (MemoryTrace | undefined)[],
): Figure[] {
  const peaks = traces.map((trace) => trace?.peak);
  return [
    ...figuresOf(MEMORY_SECTION, key, of, traces, [
      [
        "startRss",
        "RSS once started (the first sample after loading the modules)",
        "MiB",
        (t) => t.samples[1]?.rss ?? Number.NaN,
      ],
      ["hwmAtSeconds", "  the kernel's peak (VmHWM) reached, seconds after that", "s", hwmReachedAfter],
      [
        "live",
        "heap in use just after a full collection, median (about the live data; heapUsed counts garbage too)",
        "MiB",
        (t) => median(t.liveAfterFullGc),
      ],
      ["fullGcs", "  full collections", "", (t) => t.liveAfterFullGc.length],
      ["loopDelayP99", "event-loop delay, p99", "ms", (t) => t.eventLoopDelay?.p99 ?? Number.NaN],
    ]),
    ...figuresOf(MEMORY_SECTION, key, of, peaks, [
      ["rssAtPeak", "RSS at the sampled peak (process.memoryUsage, every 100 ms)", "MiB", (p) => p.rss],
      ["heapTotal", "  V8 heap committed", "MiB", (p) => p.heapTotal],
      [
        "newSpace",
        "    of which young generation (semi-spaces)",
        "MiB",
        (p) => p.spaces.new_space ?? Number.NaN,
      ],
      ["oldSpace", "    of which old generation", "MiB", (p) => p.spaces.old_space ?? Number.NaN],
      ["heapUsed", "  V8 heap in use", "MiB", (p) => p.heapUsed],
      ["external", "  outside the heap (Buffers and other external memory)", "MiB", (p) => p.external],
      ["rest", "  the rest (RSS - heap - external)", "MiB", (p) => p.rss - p.heapTotal - p.external],
      ["rssFile", "    of which file pages: node's binary, libraries (RssFile)", "MiB", (p) => p.rssFile],
      [
        "anonRest",
        "    of which other anonymous memory: malloc, thread stacks, V8 outside its heap",
        "MiB",
        (p) => p.rssAnon - p.heapTotal - p.external,
      ],
    ]),
  ];
}

/**
 * When the kernel's peak was reached, in seconds after the first sample past start-up: about 0
 * when loading the modules was the peak (samples run only once the event loop turns).
 */
function hwmReachedAfter(trace: MemoryTrace): number {
  const { samples } = trace;
  const last = samples.at(-1)?.vmHwm;
  const reached = samples.find((sample) => sample.vmHwm >= (last ?? Number.POSITIVE_INFINITY));
  const started = samples[1]?.at;
  return reached === undefined || started === undefined
    ? Number.NaN
    : Math.max(0, reached.at - started) / 1000;
}

/** A figure per row: key suffix, label (", <of>" appended), unit, the value of one run's summary. */
type Row<T> = readonly [name: string, label: string, unit: string, value: (summary: T) => number];

function figuresOf<T>(
  section: string,
  key: string,
  of: string,
  summaries: readonly (T | undefined)[],
  rows: readonly Row<T>[],
): Figure[] {
  const sectionFigure = inSection(section);
  return rows.map(([name, label, unit, value]) =>
    sectionFigure(
      `${key}.${name}`,
      label.startsWith("  ") ? label : `${label}, ${of}`,
      unit,
      summaries.map((summary) => (summary === undefined ? Number.NaN : value(summary))),
    ),
  );
}

export function fetchFigures(
  key: string,
  of: string,
  fetches: readonly (FetchSummary | undefined)[],
): Figure[] {
  return figuresOf(MEMORY_SECTION, key, of, fetches, [
    ["fetchBytes", "Fetch answer, median size", "MiB", (f) => f.bytes.p50],
    ["fetchBytesMax", "Fetch answer, largest", "MiB", (f) => f.maxBytes],
    ["batchesPerFetch", "partitions with data per Fetch answer", "", (f) => f.batchesPerFetch],
    ["batchMessagesMax", "messages in one partition's batch, largest", "", (f) => f.maxMessagesPerBatch],
  ]);
}

export function transactionFigures(
  key: string,
  of: string,
  summaries: readonly (TransactionSummary | undefined)[],
  section: string,
): Figure[] {
  const typical = summaries.find((t) => t !== undefined);
  const steps = (typical?.steps ?? []).flatMap((step, i): Row<TransactionSummary>[] => [
    [
      `tx.rt${i + 1}`,
      `  round trip ${i + 1}, ${step.label}: the server's time, p50`,
      "ms",
      (t) => t.steps[i]?.serverMs.p50 ?? Number.NaN,
    ],
    [`tx.rt${i + 1}.p99`, "    p99", "ms", (t) => t.steps[i]?.serverMs.p99 ?? Number.NaN],
  ]);
  return figuresOf(section, key, of, summaries, [
    ["tx.rows", "rows per transaction, p50", "", (t) => t.rows.p50],
    ["tx.roundTrips", "round trips per transaction, p50", "", (t) => t.roundTrips.p50],
    ...steps,
    [
      "tx.clientMs",
      "  the client's time between round trips, sum of the p50s",
      "ms",
      (t) => t.steps.reduce((sum, step) => sum + step.clientMs.p50, 0),
    ],
    ["tx.ms", "transaction, BEGIN -> COMMIT answered, p50", "ms", (t) => t.durationMs.p50],
    ["tx.msP99", "transaction, BEGIN -> COMMIT answered, p99", "ms", (t) => t.durationMs.p99],
    ["tx.commitMs", "COMMIT alone, p50", "ms", (t) => t.commitMs.p50],
  ]);
}

/** Each step of send -> row visible, p50 and p99, for the sink and (Kafka's steps only) the plain consumer. */
export function latencyFigures(
  key: string,
  of: string,
  runs: readonly (LatencyBreakdown | undefined)[],
  plain: readonly (LatencyBreakdown | undefined)[],
): Figure[] {
  const phases = PHASES.flatMap(([name, label]): Row<LatencyBreakdown>[] => [
    [`phase.${name}.p50`, `${label}: p50`, "ms", (b) => b.phases[name].p50],
    [`phase.${name}.p99`, "  p99", "ms", (b) => b.phases[name].p99],
  ]);
  return [
    ...figuresOf(LATENCY_SECTION, key, of, runs, [
      ...phases,
      [
        "produceAck.p50",
        "send -> the producer's acks=all answer (beside the chain): p50",
        "ms",
        (b) => b.produceAck.p50,
      ],
      ["produceAck.p99", "  p99", "ms", (b) => b.produceAck.p99],
      [
        "waitedForFetch",
        "messages appended before the sink asked for them (it was busy), share",
        "%",
        (b) => b.waitedShare,
      ],
      ["batchesPerFetch", "partitions with data per Fetch answer", "", (b) => b.fetches.batchesPerFetch],
    ]),
    ...figuresOf(LATENCY_SECTION, key, of, plain, [
      [
        "plain.kafka.p50",
        "plain kafkajs consumer: send -> Fetch answer, p50",
        "ms",
        (b) => b.phases.kafka.p50,
      ],
      ["plain.kafka.p99", "  p99", "ms", (b) => b.phases.kafka.p99],
      [
        "plain.handOver.p50",
        "plain kafkajs consumer: Fetch answer -> eachBatch, p50",
        "ms",
        (b) => b.phases.handOver.p50,
      ],
    ]),
    ...transactionFigures(
      key,
      of,
      runs.map((b) => b?.transactions),
      LATENCY_SECTION,
    ),
  ];
}
