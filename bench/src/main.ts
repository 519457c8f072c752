import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadStationCatalog } from "@weather/schema";
import { ConfigError } from "@weather/service-kit";
import {
  type ClientComparison,
  compareClients,
  loadEncodedReadings,
  platformaticVersion,
} from "./clients-bench.ts";
import { clusterSuite } from "./cluster-bench.ts";
import { type BenchConfig, readBenchConfig } from "./config.ts";
import { findKafkaTools } from "./java.ts";
import { type LatencyRun, runLatency } from "./latency-bench.ts";
import { describeMachine, type Machine } from "./machine.ts";
import {
  compareProducers,
  meanValueSize,
  type ProducerComparison,
  runSensorProducer,
} from "./producer-bench.ts";
import { type Figure, figure, renderTable } from "./report.ts";
import { compareSinks, loadBacklog, type SinkComparison } from "./sink-bench.ts";
import { REPO_ROOT } from "./worker.ts";
import { type BenchWorld, openBenchWorld } from "./world.ts";

// Wiring only: configuration -> the stack's resources -> each suite's runs -> medians -> table + JSON.
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const RETRY_PAUSE_MS = 15_000;

/** A run that failed because a service was briefly away (other helpers restart Kafka) is retried, after a pause
 * long enough for a restarted service to answer again. */
async function withRetry<T>(what: string, attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries) throw error;
      log(`  ${what} failed (${(error as Error).message.split("\n")[0]}); retrying (${i + 1}/${tries})`);
      await sleep(RETRY_PAUSE_MS);
    }
  }
}

async function producerSuite(world: BenchWorld, config: BenchConfig): Promise<Figure[]> {
  const tools = await findKafkaTools(log);
  let size: number | undefined;
  const recordSizeOf = async (topic: string) => {
    size ??= await meanValueSize(world, topic);
    return size;
  };
  const runs: ProducerComparison[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(`producer run ${run}/${config.runs}: ${config.producerReadings} readings, backfill, no rate cap`);
    runs.push(
      await withRetry("producer run", () => compareProducers(world, config, tools, recordSizeOf, log)),
    );
  }
  return [
    figure(
      "producer.readingsPerSecond",
      "sensor-producer, backfill (readings/s)",
      "/s",
      runs.map((r) => r.sensorProducer.readingsPerSecond),
    ),
    figure(
      "producer.producerPerformance",
      `Kafka ProducerPerformance, ${size ?? "?"} B records, acks=all (records/s)`,
      "/s",
      runs.map((r) => r.producerPerformance.recordsPerSecond),
    ),
    figure(
      "producer.ratio",
      "sensor-producer / ProducerPerformance",
      "%",
      runs.map((r) => r.ratio),
      { op: ">=", value: 0.5 },
    ),
    figure(
      "memory.producerBackfill",
      "peak RSS sensor-producer, backfill",
      "MiB",
      runs.map((r) => r.sensorProducer.peakRssBytes),
    ),
    figure(
      "memory.producerPerformance",
      "peak RSS ProducerPerformance (JVM, -Xmx512m)",
      "MiB",
      runs.map((r) => r.producerPerformance.peakRssBytes),
    ),
  ];
}

/** kafkajs (the product's client) against @platformatic/kafka sending the same pre-encoded readings. */
async function clientsSuite(world: BenchWorld, config: BenchConfig): Promise<Figure[]> {
  log(`clients: encoding ${config.producerReadings} readings once with sensor-producer`);
  const readings = await withRetry("clients values", () =>
    loadEncodedReadings(world, config.producerReadings),
  );
  const size = Math.round(readings.meanValueBytes);
  const runs: ClientComparison[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(`clients run ${run}/${config.runs}: ${readings.keys.length} readings (${size} B values) per client`);
    runs.push(await withRetry("clients run", () => compareClients(world, config, readings, run, log)));
  }
  return [
    figure(
      "clients.kafkajs",
      `kafkajs 2.2.4, pre-encoded ${size} B readings, idempotent, acks=all (records/s)`,
      "/s",
      runs.map((r) => r.kafkajs.recordsPerSecond),
    ),
    figure(
      "clients.platformatic",
      `@platformatic/kafka ${platformaticVersion}, same readings and settings (records/s)`,
      "/s",
      runs.map((r) => r.platformatic.recordsPerSecond),
    ),
    figure(
      "clients.ratio",
      "@platformatic/kafka / kafkajs",
      "x",
      runs.map((r) => r.ratio),
    ),
  ];
}

async function sinkSuite(world: BenchWorld, config: BenchConfig): Promise<Figure[]> {
  log(`sink: filling a backlog of ${config.sinkReadings} readings with sensor-producer`);
  const topic = await world.createTopic("sink");
  const fill = await withRetry("backlog fill", () => runSensorProducer(world, topic, config.sinkReadings));
  log(`  filled: ${fill.readings} readings at ${Math.round(fill.readingsPerSecond)} readings/s`);
  log("sink: decoding the backlog into memory for raw COPY");
  const backlog = await loadBacklog(world, config, topic);
  const runs: SinkComparison[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(
      `sink run ${run}/${config.runs}: pg-sink, raw COPY, one INSERT per message (${config.insertReadings} of them)`,
    );
    runs.push(await withRetry("sink run", () => compareSinks(world, config, backlog, run, log)));
  }
  await world.deleteTopic(topic);
  return [
    figure(
      "sink.pgSink",
      `pg-sink draining ${backlog.readings} readings (rows/s)`,
      "/s",
      runs.map((r) => r.pgSink.rowsPerSecond),
    ),
    figure(
      "sink.rawCopy",
      "raw COPY of the same rows from memory (rows/s)",
      "/s",
      runs.map((r) => r.rawCopy.rowsPerSecond),
    ),
    figure(
      "sink.insertPerMessage",
      `one INSERT per message, first ${config.insertReadings} (rows/s)`,
      "/s",
      runs.map((r) => r.insertPerMessage.rowsPerSecond),
    ),
    figure(
      "sink.ofRawCopy",
      "pg-sink / raw COPY",
      "%",
      runs.map((r) => r.ofRawCopy),
      { op: ">=", value: 0.5 },
    ),
    figure(
      "sink.timesInsertPerMessage",
      "pg-sink / one INSERT per message",
      "x",
      runs.map((r) => r.timesInsertPerMessage),
      { op: ">=", value: 20 },
    ),
    figure(
      "sink.wallMs",
      "pg-sink process wall time, start to exit",
      "ms",
      runs.map((r) => r.pgSink.wallMs ?? Number.NaN),
    ),
    figure(
      "memory.sinkDrain",
      "peak RSS pg-sink, draining the backlog",
      "MiB",
      runs.map((r) => r.pgSink.peakRssBytes ?? Number.NaN),
    ),
  ];
}

async function latencySuite(world: BenchWorld, config: BenchConfig): Promise<Figure[]> {
  const runs: LatencyRun[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(`latency run ${run}/${config.runs}: ${config.latencyRate} readings/s for ${config.latencySeconds} s`);
    const result = await withRetry("latency run", () => runLatency(world, config, run));
    log(
      `  p50 ${result.fromSend.p50} ms, p95 ${result.fromSend.p95} ms, p99 ${result.fromSend.p99} ms (${result.fromSend.samples} readings)`,
    );
    runs.push(result);
  }
  const label = `${config.latencyRate}/s`;
  return [
    figure(
      "latency.rate",
      `achieved producer rate (readings/s), aimed ${label}`,
      "/s",
      runs.map((r) => r.readingsPerSecond),
    ),
    figure(
      "latency.send.p50",
      `latency p50, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p50),
    ),
    figure(
      "latency.send.p95",
      `latency p95, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p95),
    ),
    figure(
      "latency.send.p99",
      `latency p99, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p99),
      { op: "<=", value: 250 },
    ),
    figure(
      "memory.producerSteady",
      `peak RSS sensor-producer, ${label}`,
      "MiB",
      runs.map((r) => r.producerPeakRssBytes),
    ),
    figure(
      "memory.sinkSteady",
      `peak RSS pg-sink, ${label}`,
      "MiB",
      runs.map((r) => r.sinkPeakRssBytes),
    ),
  ];
}

function writeResults(config: BenchConfig, machine: Machine, figures: readonly Figure[]): void {
  const results = {
    machine,
    settings: {
      runs: config.runs,
      producerReadings: config.producerReadings,
      sinkReadings: config.sinkReadings,
      insertReadings: config.insertReadings,
      clusterReadings: config.clusterReadings,
      latencyRate: config.latencyRate,
      latencySeconds: config.latencySeconds,
      workerEnv: Object.fromEntries(
        Object.entries(process.env).filter(([name]) => /^(SINK|PRODUCER)_/.test(name)),
      ),
    },
    figures,
  };
  mkdirSync(dirname(config.resultsFile), { recursive: true });
  writeFileSync(config.resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = readBenchConfig(process.env, `${REPO_ROOT}bench/results/latest.json`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(`bench: ${problem.setting}: ${problem.message}`);
    return 2;
  }
  const catalog = loadStationCatalog(process.env);
  const machine = await describeMachine(config.databaseUrl);
  log(
    `${machine.cpus} CPUs, ${machine.memoryGiB} GiB, Node ${machine.node}, Kafka ${machine.kafka}, PostgreSQL ${machine.postgres}; ${config.runs} runs per figure`,
  );
  const world = await openBenchWorld(config, catalog);
  const cleanUp = () => {
    log("interrupted: removing the benchmark's topics and databases");
    void world.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", cleanUp);
  process.once("SIGTERM", cleanUp);

  const figures: Figure[] = [];
  const save = () => writeResults(config, machine, figures);
  try {
    // Results are written after each suite, so a later failure does not cost the earlier figures.
    if (config.suites.includes("producer")) figures.push(...(await producerSuite(world, config)));
    save();
    if (config.suites.includes("clients")) figures.push(...(await clientsSuite(world, config)));
    save();
    if (config.suites.includes("sink")) figures.push(...(await sinkSuite(world, config)));
    save();
    if (config.suites.includes("latency")) figures.push(...(await latencySuite(world, config)));
    save();
    // Last: it starts a three-broker cluster of its own beside the stack (and stops it again).
    if (config.suites.includes("cluster")) figures.push(...(await clusterSuite(config, log)));
    save();
  } finally {
    await world.close();
  }

  const table = renderTable(figures);
  console.log(`\n${table}\n`);
  console.log(
    "Latency: from the Kafka message timestamp (set by kafkajs as the producer sends) to the first 10 ms poll\n" +
      "of consumer_offsets showing the sink's transaction that stored the reading committed (includes up to\n" +
      "10 ms of polling); the producer sends 200 readings every 100 ms at 2,000/s.",
  );
  log(`wrote ${config.resultsFile}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
