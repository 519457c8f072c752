import { spawn } from "node:child_process";
import { readTopicToEnd } from "@weather/service-kit";
import type { BenchConfig } from "./config.ts";
import type { KafkaTools } from "./java.ts";
import { cpuMicrosOf } from "./proc.ts";
import { ratio } from "./stats.ts";
import { assertClean, peakRssOf, startWorker, type WorkerExit } from "./worker.ts";
import type { BenchWorld } from "./world.ts";

/** A backfill's first simulated instant: far enough back that no reading lies in the future. */
export const BACKFILL_FROM = "2015-01-01T00:00:00Z";
export const BENCH_SEED = "bench";

export interface ProducerRun {
  readonly readings: number;
  readonly readingsPerSecond: number;
  readonly elapsedMs: number;
  readonly peakRssBytes: number;
  /** The process's CPU time (user + system) per reading while producing; NaN if never sampled. */
  readonly cpuMicrosPerReading: number;
}

const CPU_POLL_MS = 100;

/**
 * Runs the real sensor-producer as a backfill without a rate cap (`--from … --count …`), and
 * takes its throughput from its closing "stopped" line: readings acknowledged over the time from
 * its first reading to its last acknowledgement (connecting and registering the schema excluded).
 * Its CPU time per reading counts from its "producing readings" line to the last /proc sample
 * before it exits (every 100 ms, so up to 100 ms of sending may be left out: about 2 % of a run).
 */
export async function runSensorProducer(
  world: BenchWorld,
  topic: string,
  readings: number,
  extraEnv: Readonly<Record<string, string>> = {},
  nodeFlags: readonly string[] = [],
): Promise<ProducerRun> {
  const perStation = Math.ceil(readings / world.catalog.stations.length);
  const worker = startWorker(
    "sensor-producer",
    ["--from", BACKFILL_FROM, "--step", "1m", "--count", String(perStation), "--seed", BENCH_SEED],
    { READINGS_TOPIC: topic, ...extraEnv },
    nodeFlags,
  );
  const pid = worker.child.pid;
  let cpuAtStart: number | undefined;
  let cpuLatest: number | undefined;
  const sampleCpu = async () => (pid === undefined ? undefined : await cpuMicrosOf(pid));
  void worker
    .waitForLog("producing readings")
    .then(sampleCpu)
    .then((micros) => {
      cpuAtStart = micros;
    })
    .catch(() => {});
  const poller = setInterval(() => {
    void sampleCpu().then((micros) => {
      if (micros !== undefined && cpuAtStart !== undefined) cpuLatest = micros;
    });
  }, CPU_POLL_MS);
  const exit = await worker.exited.finally(() => clearInterval(poller));
  assertClean("sensor-producer", exit);
  const summary = summaryOf(exit);
  const cpuMicros = cpuAtStart === undefined || cpuLatest === undefined ? Number.NaN : cpuLatest - cpuAtStart;
  return {
    ...summary,
    peakRssBytes: exit.peakRssBytes,
    cpuMicrosPerReading: cpuMicros / summary.readings,
  };
}

function summaryOf(exit: WorkerExit): Pick<ProducerRun, "readings" | "elapsedMs" | "readingsPerSecond"> {
  const stopped = exit.logs.findLast((line) => line.msg === "stopped");
  const sent = Number(stopped?.sent);
  const elapsedMs = Number(stopped?.elapsedMs);
  if (!Number.isFinite(sent) || !Number.isFinite(elapsedMs) || elapsedMs <= 0)
    throw new Error(`sensor-producer logged no usable "stopped" line: ${JSON.stringify(stopped)}`);
  return { readings: sent, elapsedMs, readingsPerSecond: (sent * 1000) / elapsedMs };
}

/** The mean size of a message value on the topic (Confluent wire header + Avro payload), in bytes. */
export async function meanValueSize(world: BenchWorld, topic: string, sample = 5_000): Promise<number> {
  let bytes = 0;
  let count = 0;
  await readTopicToEnd(world.kafka, world.admin, topic, (_partition, messages) => {
    for (const message of messages) {
      if (count >= sample) return;
      bytes += message.value?.length ?? 0;
      count += 1;
    }
  });
  if (count === 0) throw new Error(`topic ${topic} is empty; cannot measure the record size`);
  return bytes / count;
}

export interface ProducerPerformanceRun {
  readonly recordsPerSecond: number;
  readonly records: number;
  readonly avgLatencyMs: number;
  readonly peakRssBytes: number;
}

/** The closing line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, …". */
const SUMMARY = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/g;

/**
 * Kafka's own producer benchmark (org.apache.kafka.tools.ProducerPerformance from kafka-tools),
 * the ceiling for a producer on this broker: same record size, acks=all (idempotence is the Java
 * client's default, as it is sensor-producer's setting), no throughput cap. Its records/s counts
 * from its first send, so the JVM's start-up is not held against it.
 */
export async function runProducerPerformance(
  tools: KafkaTools,
  config: BenchConfig,
  topic: string,
  records: number,
  recordSize: number,
): Promise<ProducerPerformanceRun> {
  const args = [
    "-Xmx512m",
    "-cp",
    tools.classpath,
    "org.apache.kafka.tools.ProducerPerformance",
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    String(recordSize),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${config.kafkaBrokers.join(",")}`,
    "acks=all",
  ];
  const child = spawn(tools.java, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let peakRssBytes = 0;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const poller = setInterval(() => {
    if (child.pid !== undefined)
      void peakRssOf(child.pid).then((bytes) => {
        if (bytes !== undefined && bytes > peakRssBytes) peakRssBytes = bytes;
      });
  }, 100);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  }).finally(() => clearInterval(poller));
  const last = [...output.matchAll(SUMMARY)].at(-1);
  if (code !== 0 || last === undefined)
    throw new Error(`ProducerPerformance exited with ${code}; output: ${output.slice(-2000)}`);
  return {
    records: Number(last[1]),
    recordsPerSecond: Number(last[2]),
    avgLatencyMs: Number(last[4]),
    peakRssBytes,
  };
}

export interface ProducerComparison {
  readonly sensorProducer: ProducerRun;
  readonly producerPerformance: ProducerPerformanceRun;
  readonly ratio: number;
}

/** One run of each, back to back on fresh topics, and their ratio. */
export async function compareProducers(
  world: BenchWorld,
  config: BenchConfig,
  tools: KafkaTools,
  /** The mean value size, measured once on the first run's topic and reused. */
  recordSizeOf: (topic: string) => Promise<number>,
  log: (line: string) => void,
): Promise<ProducerComparison> {
  const ours = await world.createTopic("producer");
  const profile =
    config.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${config.cpuProfileDir}`];
  const sensorProducer = await runSensorProducer(world, ours, config.producerReadings, {}, profile);
  log(
    `  sensor-producer: ${Math.round(sensorProducer.readingsPerSecond)} readings/s, ` +
      `${sensorProducer.cpuMicrosPerReading.toFixed(1)} µs CPU per reading, ` +
      `peak RSS ${Math.round(sensorProducer.peakRssBytes / 2 ** 20)} MiB`,
  );
  const size = Math.round(await recordSizeOf(ours));
  await world.deleteTopic(ours);
  const theirs = await world.createTopic("producer-perf");
  const producerPerformance = await runProducerPerformance(
    tools,
    config,
    theirs,
    sensorProducer.readings,
    size,
  );
  log(
    `  ProducerPerformance (${size} B records): ${Math.round(producerPerformance.recordsPerSecond)} records/s`,
  );
  await world.deleteTopic(theirs);
  return {
    sensorProducer,
    producerPerformance,
    ratio: ratio(sensorProducer.readingsPerSecond, producerPerformance.recordsPerSecond),
  };
}
