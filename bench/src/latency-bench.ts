import { setTimeout as sleep } from "node:timers/promises";
import { consumerOffsets } from "@weather/db";
import { readTopicToEnd } from "@weather/service-kit";
import { getTableName } from "drizzle-orm";
import postgres from "postgres";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { CpuMeter } from "./proc.ts";
import { BACKFILL_FROM } from "./producer-bench.ts";
import { databaseOf } from "./sink-bench.ts";
import { type LatencySummary, summarizeLatencies } from "./stats.ts";
import { breakDownLatency, type LatencyBreakdown, type MessageStamp } from "./trace/breakdown.ts";
import { type MemoryTrace, TraceRecorder } from "./trace/recorder.ts";
import { assertClean, readTrace, startWorker, traceOptions } from "./worker.ts";
import type { BenchWorld } from "./world.ts";

/** The first seconds are left out: the consumer's first fetches and the producer's first sends. */
const WARM_UP_MS = 3_000;
const CHANNEL = "bench_offsets";
const OFFSETS_TABLE = getTableName(consumerOffsets);

export interface LatencyRun {
  /** The rate asked of the producer. */
  readonly aimedRate: number;
  /** Kafka message timestamp (CreateTime, set by kafkajs when it sends) to row visible. */
  readonly fromSend: LatencySummary;
  /**
   * The same stream read by a plain kafkajs consumer in the bench (no database): CreateTime to the
   * batch reaching its eachBatch. The floor under fromSend on this machine.
   */
  readonly kafkaOnly: LatencySummary;
  readonly readingsPerSecond: number;
  readonly producerPeakRssBytes: number;
  readonly sinkPeakRssBytes: number;
  /** Where the sink's latency went, step by step (undefined when BENCH_TRACE is off). */
  readonly sink: LatencyBreakdown | undefined;
  /** The same steps for the plain kafkajs consumer: how its floor splits. */
  readonly plainConsumer: LatencyBreakdown | undefined;
  /** The sink's memory as its own process saw it (heap, external, RSS at its peak). */
  readonly sinkMemory: MemoryTrace | undefined;
  /** CPU time per row stored while the producer sent: the sink's node process and its backends, µs. */
  readonly cpuMicrosPerRow: { readonly node: number; readonly backends: number };
}

/** When each stored next offset of a partition became visible: [nextOffset, epoch ms][], ascending. */
type Visibility = Map<number, [number, number][]>;

function visibleAt(visibility: Visibility, partition: number, offset: number): number | undefined {
  const seen = visibility.get(partition) ?? [];
  // Binary search for the first commit whose next offset is past this message.
  let low = 0;
  let high = seen.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((seen[middle]?.[0] ?? 0) > offset) high = middle;
    else low = middle + 1;
  }
  return seen[low]?.[1];
}

/** Epoch milliseconds with a fraction: Date.now()'s clock, performance.now()'s resolution. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A steady stream through the whole pipeline: pg-sink running on a fresh database, then the real
 * sensor-producer capped at `rate` readings/s (`--rate`: it sends a tenth of a second's worth,
 * 200 readings at 2,000/s, every 100 ms).
 *
 * "Row visible" is the commit of the sink's transaction that stored it, which also moves the
 * partition's next offset in consumer_offsets. The bench database gets a trigger on that table
 * (the sink's code is untouched) that calls pg_notify with the partition and the new offset;
 * PostgreSQL delivers a notification only once its transaction has committed, and the bench,
 * LISTENing on its own idle connection, stamps it on arrival. That costs a sub-millisecond
 * delivery instead of the up to 10 ms a polling interval adds, and no load from polling. (A
 * notifying commit takes a cluster-wide lock for an instant, so the sink's concurrent partition
 * commits are serialised for that instant; cheap next to a commit's WAL flush.)
 *
 * Latency is that arrival minus the message's Kafka timestamp (CreateTime, which kafkajs sets in
 * whole milliseconds when the producer builds the request; same machine, same clock), so each
 * figure may be up to 1 ms long. The backfill schedule rather than real time: real time at
 * 2,000/s means a tick every millisecond, and the producer sends each tick's two readings as one
 * acks=all request, one request at a time, which tops out below 2,000/s on this machine.
 */
export async function runLatency(
  world: BenchWorld,
  run: number,
  rate: number,
  seconds: number,
  /** Extra node flags for pg-sink (BENCH_SINK_NODE_FLAGS). */
  sinkNodeFlags: readonly string[] = [],
): Promise<LatencyRun> {
  const topic = await world.createTopic("latency");
  const databaseUrl = await world.createDatabase("latency");
  const group = `bench-latency-${world.runId}-${run}-${rate}`;
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const stations = world.catalog.stations.length;
  const visibility: Visibility = new Map();
  try {
    await sql.unsafe(`
      create function bench_notify_offset() returns trigger language plpgsql as $$
      begin
        perform pg_notify('${CHANNEL}', new.partition || ':' || new.next_offset);
        return null;
      end $$;
      create trigger bench_notify_offset after insert or update on ${OFFSETS_TABLE}
        for each row execute function bench_notify_offset();`);
    await sql.listen(CHANNEL, (payload) => {
      const at = preciseNow();
      const [partition, next] = payload.split(":").map(Number) as [number, number];
      const seen = visibility.get(partition) ?? [];
      if ((seen.at(-1)?.[0] ?? -1) < next) seen.push([next, at]);
      visibility.set(partition, seen);
    });

    // Reads the same stream beside the sink: how long Kafka and kafkajs alone take to deliver it.
    const kafkaOnly: number[] = [];
    let measureFrom = Number.POSITIVE_INFINITY;
    const reader = world.kafka.consumer({ groupId: `${group}-kafka-only`, maxWaitTimeInMs: 500 });
    const readerTrace = new TraceRecorder();
    readerTrace.traceKafka(reader);
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        const at = preciseNow();
        for (const message of batch.messages) {
          const sentAt = Number(message.timestamp);
          if (sentAt >= measureFrom) kafkaOnly.push(at - sentAt);
        }
      },
    });

    const sinkTraceFile = world.traceFile("latency-sink");
    const sinkTrace = sinkTraceFile === undefined ? undefined : traceOptions(sinkTraceFile);
    const sink = startWorker(
      "pg-sink",
      [],
      {
        DATABASE_URL: databaseUrl,
        READINGS_TOPIC: topic,
        SINK_GROUP_ID: group,
        SINK_HTTP_PORT: "0",
        ...sinkTrace?.env,
      },
      [...(sinkTrace?.nodeFlags ?? []), ...sinkNodeFlags],
    );
    await sink.waitForLog("joined the consumer group");

    const perStation = Math.ceil((rate * seconds) / stations);
    const producerTraceFile = world.traceFile("latency-producer");
    const producerTrace = producerTraceFile === undefined ? undefined : traceOptions(producerTraceFile);
    const producer = startWorker(
      "sensor-producer",
      ["--from", BACKFILL_FROM, "--step", "1m", "--count", String(perStation), "--rate", String(rate)],
      { READINGS_TOPIC: topic, PRODUCER_SEED: `bench-${run}`, ...producerTrace?.env },
      producerTrace?.nodeFlags,
    );
    await producer.waitForLog("producing readings");
    const producingSince = Date.now();
    measureFrom = producingSince + WARM_UP_MS;
    const stored = () => [...visibility.values()].reduce((sum, seen) => sum + (seen.at(-1)?.[0] ?? 0), 0);
    // The sink's pool keeps its connections through the run: sampled at both ends, every backend is seen.
    const meter = await CpuMeter.start(sql, {
      processes: { node: sink.child.pid === undefined ? [] : [sink.child.pid] },
      database: databaseOf(databaseUrl),
      applicationName: "pg-sink %",
    });
    const storedAtStart = stored();
    const producerExit = await producer.exited;
    assertClean("sensor-producer", producerExit);
    const stopped = producerExit.logs.findLast((line) => line.msg === "stopped");

    // Wait until the sink has stored the whole topic, then stop the sink.
    const total = totalOf(await highWatermarks(world.admin, topic));
    const deadline = Date.now() + 60_000;
    while (stored() < total && Date.now() < deadline) await sleep(50);
    await meter.sample();
    const cpu = meter.used();
    const rowsMetered = stored() - storedAtStart;
    sink.child.kill("SIGTERM");
    const sinkExit = await sink.exited;
    await reader.disconnect();
    if (stored() < total) throw new Error(`pg-sink stored ${stored()} of ${total} messages within a minute`);

    const fromSend: number[] = [];
    const stamps: MessageStamp[] = [];
    await readTopicToEnd(world.kafka, world.admin, topic, (partition, messages) => {
      for (const message of messages) {
        const sentAt = Number(message.timestamp);
        if (sentAt < producingSince + WARM_UP_MS) continue;
        const offset = Number(message.offset);
        stamps.push({ partition, offset, sentAt });
        const visible = visibleAt(visibility, partition, offset);
        if (visible === undefined) continue;
        fromSend.push(visible - sentAt);
      }
    });
    const sinkTraced = sinkTraceFile === undefined ? undefined : await readTrace(sinkTraceFile);
    const producerTraced = producerTraceFile === undefined ? undefined : await readTrace(producerTraceFile);
    return {
      aimedRate: rate,
      fromSend: summarizeLatencies(fromSend),
      kafkaOnly: summarizeLatencies(kafkaOnly),
      readingsPerSecond: Number(stopped?.readingsPerSecond ?? Number.NaN),
      producerPeakRssBytes: producerExit.peakRssBytes,
      sinkPeakRssBytes: sinkExit.peakRssBytes,
      sink:
        sinkTraced === undefined
          ? undefined
          : breakDownLatency({
              messages: stamps,
              producer: producerTraced,
              consumer: sinkTraced,
              visibleAt: (partition, offset) => visibleAt(visibility, partition, offset),
            }),
      plainConsumer:
        sinkTraced === undefined
          ? undefined
          : breakDownLatency({ messages: stamps, producer: producerTraced, consumer: readerTrace.trace }),
      sinkMemory: sinkTraced?.memory,
      cpuMicrosPerRow: {
        node: (cpu.node ?? Number.NaN) / rowsMetered,
        backends: (cpu.backends ?? Number.NaN) / rowsMetered,
      },
    };
  } finally {
    await sql.end({ timeout: 5 });
    await world.admin.deleteGroups([group, `${group}-kafka-only`]).catch(() => {});
    await world.dropDatabase(databaseUrl);
    await world.deleteTopic(topic);
  }
}
