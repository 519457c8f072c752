import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { ConnectionTracker, type TransactionTrace } from "./pg-transactions.ts";

/**
 * What a worker did, timed from the inside, for the bench's breakdowns: kafkajs's requests and
 * batches (its instrumentation events), each PostgreSQL transaction's round trips (from the
 * connection's bytes), and the process's memory. Times are epoch milliseconds with fractions
 * (Date.now()'s clock at performance.now()'s resolution), comparable across processes on one host.
 */
export interface WorkerTrace {
  readonly pid: number;
  readonly execArgv: readonly string[];
  /** Produce and Fetch requests, when their answers arrived. */
  readonly requests: KafkaRequest[];
  /** Each batch kafkajs handed to eachBatch. */
  readonly batches: BatchTrace[];
  readonly transactions: TransactionTrace[];
  readonly memory: MemoryTrace;
}

export interface KafkaRequest {
  readonly api: string;
  /** When kafkajs queued it, and when it wrote it (Date.now(), whole ms). */
  readonly createdAt: number;
  readonly sentAt: number;
  /** When the answer arrived. */
  readonly answeredAt: number;
  /** Bytes of the answer. */
  readonly size: number;
}

export interface BatchTrace {
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly messages: number;
  readonly startAt: number;
  endAt?: number;
}

export interface MemorySample {
  readonly at: number;
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JS ones, Buffers' backing stores included. */
  readonly external: number;
  readonly arrayBuffers: number;
  /** The kernel's split of RSS (/proc/self/status): anonymous memory, and file pages (node's binary, libraries). */
  readonly rssAnon: number;
  readonly rssFile: number;
  /** VmHWM: the highest RSS so far, as the kernel counted it (it sees spikes between two samples). */
  readonly vmHwm: number;
}

export interface MemoryTrace {
  /** One sample every SAMPLE_MS. */
  readonly samples: MemorySample[];
  /** The sample with the highest RSS, and V8's heap spaces (MiB committed) at that moment. */
  peak: (MemorySample & { readonly spaces: Record<string, number> }) | undefined;
  /** V8's limit for the heap, bytes. */
  readonly heapSizeLimit: number;
  /**
   * The heap in use just after each full (mark-compact) collection (read when the observer runs, a
   * moment later): about the live data, without the garbage heapUsed also counts between them.
   */
  readonly liveAfterFullGc: number[];
  /** Event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution), ms, over the whole run. */
  eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number } | undefined;
}

export const MEMORY_SAMPLE_MS = 100;

/** Epoch milliseconds at performance.now()'s resolution. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The part of a kafkajs consumer or producer the recorder listens to. */
interface Instrumented {
  readonly events: object;
  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): unknown;
}

/** RssAnon, RssFile and VmHWM of /proc/self/status, in bytes (empty where there is no /proc). */
function kernelMemory(): Record<string, number> {
  const values: Record<string, number> = {};
  try {
    for (const match of readFileSync("/proc/self/status", "utf8").matchAll(
      /^(RssAnon|RssFile|VmHWM):\s+(\d+) kB/gm,
    ))
      values[match[1] as string] = Number(match[2]) * 1024;
  } catch {
    // not Linux
  }
  return values;
}

export class TraceRecorder {
  readonly trace: WorkerTrace;
  private connections = 0;

  constructor() {
    this.trace = {
      pid: process.pid,
      execArgv: process.execArgv,
      requests: [],
      batches: [],
      transactions: [],
      memory: {
        samples: [],
        peak: undefined,
        heapSizeLimit: getHeapStatistics().heap_size_limit,
        liveAfterFullGc: [],
        eventLoopDelay: undefined,
      },
    };
  }

  /** Records a kafkajs consumer's or producer's Produce and Fetch answers and its batches. */
  traceKafka(client: Instrumented): void {
    const events = client.events as Readonly<Record<string, string | undefined>>;
    if (events.REQUEST !== undefined)
      client.on(events.REQUEST, ({ payload }) => {
        const api = String(payload.apiName);
        if (api !== "Produce" && api !== "Fetch") return;
        this.trace.requests.push({
          api,
          createdAt: Number(payload.createdAt),
          sentAt: Number(payload.sentAt),
          answeredAt: preciseNow(),
          size: Number(payload.size),
        });
      });
    const open = new Map<string, BatchTrace>();
    if (events.START_BATCH_PROCESS !== undefined)
      client.on(events.START_BATCH_PROCESS, ({ payload }) => {
        const batch: BatchTrace = {
          partition: Number(payload.partition),
          firstOffset: Number(payload.firstOffset),
          lastOffset: Number(payload.lastOffset),
          messages: Number(payload.batchSize),
          startAt: preciseNow(),
        };
        this.trace.batches.push(batch);
        open.set(`${batch.partition}:${batch.firstOffset}`, batch);
      });
    if (events.END_BATCH_PROCESS !== undefined)
      client.on(events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${Number(payload.partition)}:${Number(payload.firstOffset)}`;
        const batch = open.get(key);
        if (batch !== undefined) batch.endAt = preciseNow();
        open.delete(key);
      });
  }

  /**
   * Follows a PostgreSQL connection's bytes both ways: what arrives from the socket's first 'data'
   * listener on, what it writes through the function returned (to call with every chunk written).
   */
  tracePostgres(socket: Socket): (chunk: Buffer) => void {
    const tracker = new ConnectionTracker(++this.connections, (tx) => this.trace.transactions.push(tx));
    socket.prependListener("data", (chunk: Buffer) => tracker.received(preciseNow(), chunk));
    return (chunk) => tracker.written(preciseNow(), chunk);
  }

  /**
   * Watches full collections and the event loop's delay until finish() is called. The delay tells
   * how much of a "server" time in a round trip was the client not reading its socket yet.
   */
  watchRuntime(): { finish(): void } {
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
          this.trace.memory.liveAfterFullGc.push(process.memoryUsage().heapUsed);
    });
    observer.observe({ entryTypes: ["gc"] });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    return {
      finish: () => {
        observer.disconnect();
        delay.disable();
        const ms = (ns: number) => ns / 1e6;
        this.trace.memory.eventLoopDelay = {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        };
      },
    };
  }

  sampleMemory(): void {
    const usage = process.memoryUsage();
    const status = kernelMemory();
    const sample: MemorySample = {
      at: preciseNow(),
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rssAnon: status.RssAnon ?? Number.NaN,
      rssFile: status.RssFile ?? Number.NaN,
      vmHwm: status.VmHWM ?? Number.NaN,
    };
    const { memory } = this.trace;
    memory.samples.push(sample);
    if (memory.peak === undefined || sample.rss > memory.peak.rss) {
      const spaces: Record<string, number> = {};
      for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_size;
      memory.peak = { ...sample, spaces };
    }
  }
}
