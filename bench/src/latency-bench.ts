import { setTimeout as sleep } from "node:timers/promises";
import { readTopicToEnd } from "@weather/service-kit";
import postgres from "postgres";
import type { BenchConfig } from "./config.ts";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { BACKFILL_FROM } from "./producer-bench.ts";
import { type LatencySummary, summarizeLatencies } from "./stats.ts";
import { assertClean, startWorker } from "./worker.ts";
import type { BenchWorld } from "./world.ts";

/** How often the bench looks at the stored offsets: the resolution of "row visible". */
const VISIBILITY_POLL_MS = 10;
/** The first seconds are left out: the consumer's first fetches and the producer's first sends. */
const WARM_UP_MS = 3_000;

export interface LatencyRun {
  /** Kafka message timestamp (CreateTime, set by kafkajs when it sends) to row visible. */
  readonly fromSend: LatencySummary;
  readonly readingsPerSecond: number;
  readonly producerPeakRssBytes: number;
  readonly sinkPeakRssBytes: number;
}

/** When each stored next offset of a partition was first seen: [nextOffset, epoch ms][], ascending. */
type Visibility = Map<number, [number, number][]>;

function visibleAt(visibility: Visibility, partition: number, offset: number): number | undefined {
  const seen = visibility.get(partition) ?? [];
  // Binary search for the first observation whose next offset is past this message.
  let low = 0;
  let high = seen.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((seen[middle]?.[0] ?? 0) > offset) high = middle;
    else low = middle + 1;
  }
  return seen[low]?.[1];
}

/**
 * A steady stream through the whole pipeline: pg-sink running on a fresh database, then the real
 * sensor-producer capped at `rate` readings/s (`--rate`: it sends a tenth of a second's worth,
 * 200 readings at 2,000/s, every 100 ms). A reading is visible once the sink's transaction that
 * stored it has committed; the sink commits the partition's next offset in that same transaction,
 * so the bench polls consumer_offsets every 10 ms and takes the first poll showing the offset past
 * the message. Latency is that instant minus the message's Kafka timestamp (CreateTime, which
 * kafkajs sets when it builds the produce request; same machine, same clock). Polling makes it an
 * upper bound, by at most the poll interval.
 *
 * The backfill schedule rather than real time: real time at 2,000/s means a tick every millisecond,
 * and the producer sends each tick's two readings as one acks=all request, one request at a time,
 * which tops out below 2,000/s on this machine (about 1,800, falling behind).
 */
export async function runLatency(world: BenchWorld, config: BenchConfig, run: number): Promise<LatencyRun> {
  const topic = await world.createTopic("latency");
  const databaseUrl = await world.createDatabase("latency");
  const group = `bench-latency-${world.runId}-${run}`;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const stations = world.catalog.stations.length;
  let polling = true;
  let poller: Promise<void> = Promise.resolve();
  try {
    const sink = startWorker("pg-sink", [], {
      DATABASE_URL: databaseUrl,
      READINGS_TOPIC: topic,
      SINK_GROUP_ID: group,
      SINK_HTTP_PORT: "0",
    });
    await sink.waitForLog("joined the consumer group");

    const visibility: Visibility = new Map();
    poller = (async () => {
      while (polling) {
        // A connection terminated under us (the reliability suite does that to PostgreSQL) costs
        // one poll of resolution, not the run: postgres.js reconnects on the next query.
        const rows = await sql<{ partition: number; next: string }[]>`
          select partition, next_offset::text as next from consumer_offsets
          where consumer_group = ${group} and topic = ${topic}`.catch(() => []);
        const at = Date.now();
        for (const row of rows) {
          const seen = visibility.get(row.partition) ?? [];
          const next = Number(row.next);
          if ((seen.at(-1)?.[0] ?? -1) < next) seen.push([next, at]);
          visibility.set(row.partition, seen);
        }
        await sleep(VISIBILITY_POLL_MS);
      }
    })();

    const perStation = Math.ceil((config.latencyRate * config.latencySeconds) / stations);
    const producer = startWorker(
      "sensor-producer",
      [
        "--from",
        BACKFILL_FROM,
        "--step",
        "1m",
        "--count",
        String(perStation),
        "--rate",
        String(config.latencyRate),
      ],
      { READINGS_TOPIC: topic, PRODUCER_SEED: `bench-${run}` },
    );
    await producer.waitForLog("producing readings");
    const producingSince = Date.now();
    const producerExit = await producer.exited;
    assertClean("sensor-producer", producerExit);
    const stopped = producerExit.logs.findLast((line) => line.msg === "stopped");

    // Wait until the sink has stored the whole topic, then stop looking and stop the sink.
    const total = totalOf(await highWatermarks(world.admin, topic));
    const deadline = Date.now() + 60_000;
    const stored = () => [...visibility.values()].reduce((sum, seen) => sum + (seen.at(-1)?.[0] ?? 0), 0);
    while (stored() < total && Date.now() < deadline) await sleep(50);
    polling = false;
    await poller;
    sink.child.kill("SIGTERM");
    const sinkExit = await sink.exited;
    if (stored() < total) throw new Error(`pg-sink stored ${stored()} of ${total} messages within a minute`);

    const fromSend: number[] = [];
    await readTopicToEnd(world.kafka, world.admin, topic, (partition, messages) => {
      for (const message of messages) {
        const sentAt = Number(message.timestamp);
        if (sentAt < producingSince + WARM_UP_MS) continue;
        const visible = visibleAt(visibility, partition, Number(message.offset));
        if (visible === undefined) continue;
        fromSend.push(visible - sentAt);
      }
    });
    return {
      fromSend: summarizeLatencies(fromSend),
      readingsPerSecond: Number(stopped?.readingsPerSecond ?? Number.NaN),
      producerPeakRssBytes: producerExit.peakRssBytes,
      sinkPeakRssBytes: sinkExit.peakRssBytes,
    };
  } finally {
    polling = false;
    await poller.catch(() => {});
    await sql.end({ timeout: 5 });
    await world.admin.deleteGroups([group]).catch(() => {});
    await world.dropDatabase(databaseUrl);
    await world.deleteTopic(topic);
  }
}
