import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { STATION_CATALOG } from "@weather/schema";
import { ConfigError, configurationOf } from "@weather/settings";
import { renderAims, renderSections } from "./aims.ts";
import { capacityFigures } from "./capacity.ts";
import {
  type ClientComparison,
  compareClients,
  loadEncodedReadings,
  platformaticVersion,
} from "./clients-bench.ts";
import { clusterSuite } from "./cluster-bench.ts";
import { type BenchConfig, readBenchConfig } from "./config.ts";
import { exitCleanlyOnInterrupt, onInterrupt } from "./interrupt.ts";
import { findKafkaTools, type KafkaTools } from "./java.ts";
import { FLOOR_MESSAGE_BYTES, type KafkaFloor, runKafkaFloor } from "./kafka-floor.ts";
import { type LatencyRun, runLatency } from "./latency-bench.ts";
import { describeMachine, type LoadSamples, type Machine, sampleLoad } from "./machine.ts";
import { compareProducers, meanValueSize, type ProducerComparison } from "./producer-bench.ts";
import { type Figure, figure } from "./report.ts";
import {
  compareSinks,
  fillBacklog,
  loadBacklog,
  type SinkComparison,
  type SinkScenario,
} from "./sink-bench.ts";
import { median } from "./stats.ts";
import { fetchFigures, latencyFigures, memoryFigures, transactionFigures } from "./trace/figures.ts";
import { wideCatalog } from "./wide-catalog.ts";
import { REPO_ROOT } from "./worker.ts";
import { type BenchWorld, openBenchWorld } from "./world.ts";

// Wiring only: configuration -> the stack's resources -> each suite's runs -> medians -> table + JSON.
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const RETRY_PAUSE_MS = 15_000;
const MIB = 1024 * 1024;

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
      "producer.cpuPerReading",
      "CPU per reading, sensor-producer's node process (user + system)",
      "µs",
      runs.map((r) => r.sensorProducer.cpuMicrosPerReading),
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

/** The two built-in stations (two of six partitions), then a catalog that fills all six. */
function sinkScenarios(world: BenchWorld, config: BenchConfig): SinkScenario[] {
  const wide = wideCatalog(config.sinkStations, world.runId);
  log(
    `sink: ${config.sinkStations} stations for all partitions, per partition: ${wide.stationsPerPartition.join(", ")} (${wide.path})`,
  );
  const builtIn = world.catalog.stations.length;
  return [
    { name: `${builtIn} stations`, key: "builtin", catalog: world.catalog, stationsFile: undefined },
    {
      name: `${wide.catalog.stations.length} stations`,
      key: "wide",
      catalog: wide.catalog,
      stationsFile: wide.path,
    },
  ];
}

async function sinkScenarioSuite(
  world: BenchWorld,
  config: BenchConfig,
  scenario: SinkScenario,
  withInsertPerMessage: boolean,
): Promise<Figure[]> {
  log(`sink, ${scenario.name}: filling a backlog of ${config.sinkReadings} readings with sensor-producer`);
  const fill = await withRetry("backlog fill", () => fillBacklog(world, scenario, config.sinkReadings));
  log(`  filled: ${Math.round(fill.readingsPerSecond)} readings/s`);
  log("  decoding the backlog into memory for raw COPY (text and binary)");
  const backlog = await loadBacklog(world, config, scenario, fill.topic);
  log(`  ${backlog.readings} readings in ${backlog.partitions} partitions`);
  const runs: SinkComparison[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(
      `sink, ${scenario.name}, run ${run}/${config.runs}: pg-sink, raw COPY text and binary${withInsertPerMessage ? `, one INSERT per message (${config.insertReadings} of them)` : ""}`,
    );
    runs.push(
      await withRetry("sink run", () =>
        compareSinks(world, config, scenario, backlog, run, withInsertPerMessage, log),
      ),
    );
  }
  await world.deleteTopic(fill.topic);
  const of = `${scenario.name}, ${backlog.partitions} partitions`;
  const key = (name: string) => `sink.${scenario.key}.${name}`;
  const figures = [
    figure(
      key("pgSink"),
      `pg-sink draining ${backlog.readings} readings, ${of} (rows/s)`,
      "/s",
      runs.map((r) => r.pgSink.rowsPerSecond),
    ),
    figure(
      key("rawCopyText"),
      `raw COPY, text, same rows from memory, ${of} (rows/s)`,
      "/s",
      runs.map((r) => r.copyText.rowsPerSecond),
    ),
    figure(
      key("rawCopyBinary"),
      `raw COPY, binary, same rows from memory, ${of} (rows/s)`,
      "/s",
      runs.map((r) => r.copyBinary.rowsPerSecond),
    ),
    figure(
      key("ofRawCopy"),
      `pg-sink / raw binary COPY, ${of}`,
      "%",
      runs.map((r) => r.ofRawCopy),
      { op: ">=", value: 0.9 },
    ),
  ];
  if (withInsertPerMessage) {
    figures.push(
      figure(
        key("insertPerMessage"),
        `one INSERT per message, first ${config.insertReadings} (rows/s)`,
        "/s",
        runs.map((r) => r.insertPerMessage?.rowsPerSecond ?? Number.NaN),
      ),
      figure(
        key("timesInsertPerMessage"),
        `pg-sink / one INSERT per message, ${of}`,
        "x",
        runs.map((r) => r.timesInsertPerMessage),
        { op: ">=", value: 30 },
      ),
    );
  }
  figures.push(
    figure(
      key("cpuNode"),
      `CPU per row, pg-sink's node process, ${of}`,
      "µs",
      runs.map((r) => r.pgSink.nodeMicrosPerRow ?? Number.NaN),
    ),
    figure(
      key("cpuBackends"),
      `CPU per row, pg-sink's PostgreSQL backends, ${of}`,
      "µs",
      runs.map((r) => r.pgSink.backendMicrosPerRow ?? Number.NaN),
    ),
    figure(
      key("cpuCopyText"),
      `CPU per row, PostgreSQL backend of raw COPY text, ${of}`,
      "µs",
      runs.map((r) => r.copyText.backendMicrosPerRow ?? Number.NaN),
    ),
    figure(
      key("cpuCopyBinary"),
      `CPU per row, PostgreSQL backend of raw COPY binary, ${of}`,
      "µs",
      runs.map((r) => r.copyBinary.backendMicrosPerRow ?? Number.NaN),
    ),
    figure(
      key("wallMs"),
      `pg-sink process wall time, start to exit, ${of}`,
      "ms",
      runs.map((r) => r.pgSink.wallMs ?? Number.NaN),
    ),
    figure(
      `memory.${scenario.key}.sinkDrain`,
      `peak RSS pg-sink, draining, ${of}`,
      "MiB",
      runs.map((r) => r.pgSink.peakRssBytes ?? Number.NaN),
      { op: "<=", value: 200 * MIB },
    ),
    ...memoryFigures(
      `memory.${scenario.key}.drain`,
      `pg-sink draining, ${of}`,
      runs.map((r) => r.pgSink.memory),
    ),
    ...fetchFigures(
      `memory.${scenario.key}.drain`,
      `pg-sink draining, ${of}`,
      runs.map((r) => r.pgSink.fetches),
    ),
    ...transactionFigures(
      key("drain"),
      `pg-sink draining, ${of}`,
      runs.map((r) => r.pgSink.transactions),
      "Drain: the transactions",
    ),
    figure(
      key("bytesPerRow"),
      `bytes per stored row, indexes included (pg_total_relation_size), ${of}`,
      "B",
      runs.map((r) => r.pgSink.bytesPerRow ?? Number.NaN),
      undefined,
      "Capacity",
    ),
  );
  return figures;
}

async function sinkSuite(world: BenchWorld, config: BenchConfig): Promise<Figure[]> {
  const figures: Figure[] = [];
  const scenarios = sinkScenarios(world, config);
  try {
    for (const [i, scenario] of scenarios.entries()) {
      figures.push(...(await sinkScenarioSuite(world, config, scenario, i === 0)));
    }
  } finally {
    for (const { stationsFile } of scenarios)
      if (stationsFile !== undefined) rmSync(stationsFile, { force: true });
  }
  return figures;
}

async function latencyRuns(
  world: BenchWorld,
  config: BenchConfig,
  tools: KafkaTools,
  rate: number,
  key: string,
  aims: { p50?: number; p99: number; sinkRssMiB?: number },
): Promise<Figure[]> {
  const runs: LatencyRun[] = [];
  const floors: KafkaFloor[] = [];
  for (let run = 1; run <= config.runs; run++) {
    log(
      `latency run ${run}/${config.runs}: Kafka's EndToEndLatency, ${config.floorMessages} messages, then ${rate} readings/s for ${config.latencySeconds} s`,
    );
    const floor = await withRetry("EndToEndLatency", () =>
      runKafkaFloor(world, tools, config.kafkaBrokers, config.floorMessages),
    );
    log(`  EndToEndLatency: p50 ${floor.p50} ms, p99 ${floor.p99} ms, avg ${floor.avg.toFixed(2)} ms`);
    floors.push(floor);
    const result = await withRetry("latency run", () =>
      runLatency(world, run, rate, config.latencySeconds, config.sinkNodeFlags),
    );
    log(
      `  achieved ${Math.round(result.readingsPerSecond)}/s; p50 ${result.fromSend.p50.toFixed(1)} ms, p95 ${result.fromSend.p95.toFixed(1)} ms, p99 ${result.fromSend.p99.toFixed(1)} ms, max ${result.fromSend.max.toFixed(1)} ms (${result.fromSend.samples} readings); plain kafkajs consumer p50 ${result.kafkaOnly.p50.toFixed(1)} ms, p99 ${result.kafkaOnly.p99.toFixed(1)} ms`,
    );
    const tx = result.sink?.transactions;
    if (tx !== undefined)
      log(`  the sink's typical transaction (${tx.count}, ${tx.rows.p50} rows): ${tx.typical}`);
    runs.push(result);
  }
  const label = `${rate.toLocaleString("en-US")}/s`;
  const over = (p: "p50" | "p99", floor: (run: number) => number) =>
    runs.map((r, i) => r.fromSend[p] - floor(i));
  return [
    figure(
      `latency.${key}.rate`,
      `achieved producer rate (readings/s), aimed ${label}`,
      "/s",
      runs.map((r) => r.readingsPerSecond),
    ),
    figure(
      `latency.${key}.p50`,
      `latency p50, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p50),
      aims.p50 === undefined ? undefined : { op: "<=", value: aims.p50 },
    ),
    figure(
      `latency.${key}.p95`,
      `latency p95, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p95),
    ),
    figure(
      `latency.${key}.p99`,
      `latency p99, Kafka send -> row visible, ${label}`,
      "ms",
      runs.map((r) => r.fromSend.p99),
      { op: "<=", value: aims.p99 },
    ),
    figure(
      `latency.${key}.floor.p50`,
      `Kafka's floor: EndToEndLatency (${config.floorMessages} messages of ${FLOOR_MESSAGE_BYTES} B, acks=all, one at a time), p50 (whole ms, rounded down), next to the ${label} runs`,
      "ms",
      floors.map((f) => f.p50),
    ),
    figure(
      `latency.${key}.floor.p99`,
      "  p99",
      "ms",
      floors.map((f) => f.p99),
    ),
    figure(
      `latency.${key}.floor.avg`,
      "  average",
      "ms",
      floors.map((f) => f.avg),
    ),
    figure(
      `latency.${key}.kafkaOnly.p50`,
      `latency p50, Kafka send -> plain kafkajs consumer (no database), ${label}`,
      "ms",
      runs.map((r) => r.kafkaOnly.p50),
    ),
    figure(
      `latency.${key}.kafkaOnly.p99`,
      `latency p99, Kafka send -> plain kafkajs consumer (no database), ${label}`,
      "ms",
      runs.map((r) => r.kafkaOnly.p99),
    ),
    figure(
      `latency.${key}.overFloor.p50`,
      `pg-sink minus Kafka's floor (EndToEndLatency), p50, ${label}`,
      "ms",
      over("p50", (i) => floors[i]?.p50 ?? Number.NaN),
    ),
    figure(
      `latency.${key}.overFloor.p99`,
      "  p99",
      "ms",
      over("p99", (i) => floors[i]?.p99 ?? Number.NaN),
    ),
    figure(
      `latency.${key}.overPlain.p50`,
      `pg-sink minus the plain kafkajs consumer, p50, ${label}`,
      "ms",
      over("p50", (i) => runs[i]?.kafkaOnly.p50 ?? Number.NaN),
    ),
    figure(
      `latency.${key}.overPlain.p99`,
      "  p99",
      "ms",
      over("p99", (i) => runs[i]?.kafkaOnly.p99 ?? Number.NaN),
    ),
    figure(
      `latency.${key}.cpuNode`,
      `CPU per row, pg-sink's node process, ${label}`,
      "µs",
      runs.map((r) => r.cpuMicrosPerRow.node),
    ),
    figure(
      `latency.${key}.cpuBackends`,
      `CPU per row, its PostgreSQL backends, ${label}`,
      "µs",
      runs.map((r) => r.cpuMicrosPerRow.backends),
    ),
    figure(
      `memory.${key}.producerSteady`,
      `peak RSS sensor-producer, ${label}`,
      "MiB",
      runs.map((r) => r.producerPeakRssBytes),
    ),
    figure(
      `memory.${key}.sinkSteady`,
      `peak RSS pg-sink, ${label}`,
      "MiB",
      runs.map((r) => r.sinkPeakRssBytes),
      aims.sinkRssMiB === undefined ? undefined : { op: "<=", value: aims.sinkRssMiB * MIB },
    ),
    ...latencyFigures(
      `latency.${key}`,
      label,
      runs.map((r) => r.sink),
      runs.map((r) => r.plainConsumer),
    ),
    ...memoryFigures(
      `memory.${key}.sink`,
      `pg-sink at ${label}`,
      runs.map((r) => r.sinkMemory),
    ),
  ];
}

/**
 * At BENCH_LATENCY_RATE (2,000/s), then at half of the sink's maximum: its drain rate for the same
 * two stations measured earlier in this bench run (or BENCH_LATENCY_HIGH_RATE).
 */
async function latencySuite(
  world: BenchWorld,
  config: BenchConfig,
  sinkFigures: readonly Figure[],
): Promise<Figure[]> {
  const tools = await findKafkaTools(log);
  const figures = await latencyRuns(world, config, tools, config.latencyRate, "steady", {
    p50: 5,
    p99: 15,
    sinkRssMiB: 150,
  });
  const drain = sinkFigures.find((f) => f.key === "sink.builtin.pgSink")?.median;
  const high =
    config.latencyHighRate ?? (drain === undefined ? undefined : Math.round(drain / 2 / 100) * 100);
  if (high === undefined) {
    log(
      "latency at half the sink's maximum: skipped (run the sink suite too, or set BENCH_LATENCY_HIGH_RATE)",
    );
    return figures;
  }
  log(`latency at half the sink's maximum rate: ${high} readings/s`);
  figures.push(...(await latencyRuns(world, config, tools, high, "half", { p99: 50 })));
  return figures;
}

/** "median 1.2, 0.4-3.1 (n samples)" of the 1-minute load average. */
function describeLoad(load: LoadSamples): string {
  const sorted = [...load.samples].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(1)}, ${sorted[0]?.toFixed(1)}-${sorted.at(-1)?.toFixed(1)} (${sorted.length} samples, every 10 s)`;
}

function writeResults(
  config: BenchConfig,
  machine: Machine,
  load: LoadSamples,
  figures: readonly Figure[],
): void {
  const results = {
    machine,
    loadAverage: { samples: load.samples, summary: describeLoad(load) },
    settings: {
      runs: config.runs,
      producerReadings: config.producerReadings,
      sinkReadings: config.sinkReadings,
      insertReadings: config.insertReadings,
      clusterReadings: config.clusterReadings,
      sinkStations: config.sinkStations,
      latencyRate: config.latencyRate,
      latencyHighRate: config.latencyHighRate,
      latencySeconds: config.latencySeconds,
      floorMessages: config.floorMessages,
      clusterSinkCpus: config.clusterSinkCpus,
      trace: config.trace,
      sinkNodeFlags: config.sinkNodeFlags,
      sinkKafkajs: config.sinkKafkajs,
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
  const catalog = configurationOf({ groups: { catalog: STATION_CATALOG } }, process.env).catalog;
  const machine = await describeMachine(config.databaseUrl);
  log(
    `${machine.cpus} CPUs, ${machine.memoryGiB} GiB, Node ${machine.node}, Kafka ${machine.kafka}, PostgreSQL ${machine.postgres}; ${config.runs} runs per figure`,
  );
  const world = await openBenchWorld(config, catalog);
  exitCleanlyOnInterrupt(log);
  onInterrupt(() => world.close());

  const figures: Figure[] = [];
  const load = sampleLoad();
  const save = () => writeResults(config, machine, load, figures);
  try {
    // Results are written after each suite, so a later failure does not cost the earlier figures.
    if (config.suites.includes("producer")) figures.push(...(await producerSuite(world, config)));
    save();
    if (config.suites.includes("clients")) figures.push(...(await clientsSuite(world, config)));
    save();
    const sinkFigures = config.suites.includes("sink") ? await sinkSuite(world, config) : [];
    figures.push(...sinkFigures);
    save();
    if (config.suites.includes("latency")) figures.push(...(await latencySuite(world, config, sinkFigures)));
    save();
    // Last: it starts a three-broker cluster of its own beside the stack (and stops it again).
    if (config.suites.includes("cluster")) figures.push(...(await clusterSuite(config, log)));
    figures.push(...capacityFigures(figures));
    save();
  } finally {
    await world.close();
  }

  console.log(`\n${renderSections(figures)}\n`);
  if (config.suites.includes("latency") || config.suites.includes("sink"))
    console.log(
      "Latency: from the Kafka message timestamp (set by kafkajs as the producer sends, whole ms) to the\n" +
        "arrival of the NOTIFY that a trigger on consumer_offsets sends when the sink's transaction storing the\n" +
        "reading commits; the producer sends a tenth of a second's readings every 100 ms.\n" +
        "CPU per row: utime+stime from /proc of pg-sink's node process and of its PostgreSQL backends, over the\n" +
        "drain (start-up and shutdown left out). See bench/README.md.",
    );
  load.stop();
  log(`the machine's 1-minute load average during the run: ${describeLoad(load)} on ${machine.cpus} CPUs`);
  console.log(
    `\nThe aims, met or missed, and what limits each (measured in this run):\n\n${renderAims(figures)}\n`,
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
