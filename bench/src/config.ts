import {
  ConfigError,
  type ConnectionSettings,
  presentVariables,
  readConnectionSettings,
  toConfigProblems,
} from "@weather/service-kit";
import { z } from "zod";

type Env = Readonly<Record<string, string | undefined>>;

export const SUITES = ["producer", "clients", "sink", "latency", "cluster"] as const;
export type Suite = (typeof SUITES)[number];

/** The benchmark's knobs, read once from the environment. */
export interface BenchConfig extends ConnectionSettings {
  /** Runs per figure; each figure is the median of its runs. */
  readonly runs: number;
  readonly suites: readonly Suite[];
  /** Readings the producer sends per run (over all stations), ProducerPerformance's records, and each client's in the clients suite. */
  readonly producerReadings: number;
  /** The backlog pg-sink and raw COPY drain per run. */
  readonly sinkReadings: number;
  /**
   * Stations of the second sink scenario: enough (>= 6) that their ids hash to every partition of
   * the six-partition topic, where the two built-in stations fill two.
   */
  readonly sinkStations: number;
  /** How many of the backlog the one-INSERT-per-message consumer stores per run (it is slow). */
  readonly insertReadings: number;
  /** The backlog 1, 2 and 3 sink instances drain on the three-broker cluster, per run. */
  readonly clusterReadings: number;
  /** The CPU quota of each sink instance in the cluster suite (its own cgroup), in CPUs. */
  readonly clusterSinkCpus: number;
  /** Readings per second of the latency run, and how long it lasts. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  /** Messages of Kafka's EndToEndLatency run beside each latency run (Kafka's own floor). */
  readonly floorMessages: number;
  /**
   * The second latency run's rate; unset: half of the sink's drain rate measured by the sink suite
   * in the same bench run (two stations), or no second run when that suite did not run.
   */
  readonly latencyHighRate: number | undefined;
  /** Where the JSON results go. */
  readonly resultsFile: string;
  /** When set, pg-sink's drains and sensor-producer's backfills run under `node --cpu-prof` and leave their profiles here. */
  readonly cpuProfileDir: string | undefined;
  /**
   * Whether pg-sink and sensor-producer run with the bench's tracer (trace/preload.ts): the
   * latency and memory breakdowns come from it. Off only to check what it costs.
   */
  readonly trace: boolean;
  /**
   * Tuning experiments: node flags added after pg-sink's start-script flags (V8 takes the last of a
   * repeated flag), and kafkajs consumer options the tracer merges into pg-sink's consumer (JSON,
   * e.g. {"maxBytesPerPartition":262144}; needs BENCH_TRACE on). pg-sink's own SINK_* variables
   * pass through to it as they are.
   */
  readonly sinkNodeFlags: readonly string[];
  readonly sinkKafkajs: string | undefined;
}

const count = (min: number) =>
  z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(min);

const benchEnvSchema = z.object({
  BENCH_RUNS: count(1).max(50).default(3),
  BENCH_ONLY: z
    .string()
    .transform((text) => text.split(",").map((suite) => suite.trim()))
    .pipe(z.array(z.enum(SUITES, { error: `expected a comma-separated subset of ${SUITES.join(",")}` })))
    .default([...SUITES]),
  BENCH_PRODUCER_READINGS: count(1_000).default(200_000),
  BENCH_SINK_READINGS: count(1_000).default(500_000),
  BENCH_SINK_STATIONS: count(6).max(120).default(12),
  BENCH_INSERT_READINGS: count(100).default(20_000),
  BENCH_CLUSTER_READINGS: count(1_000).default(300_000),
  BENCH_CLUSTER_SINK_CPUS: z.coerce
    .number({ error: "must be a number of CPUs, e.g. 0.25" })
    .min(0.01, "must be at least 0.01 CPU")
    .max(64, "must be at most 64 CPUs")
    .default(0.15),
  BENCH_LATENCY_RATE: count(1).default(2_000),
  BENCH_LATENCY_SECONDS: count(5).default(30),
  BENCH_FLOOR_MESSAGES: count(100).default(5_000),
  BENCH_LATENCY_HIGH_RATE: count(1).optional(),
  BENCH_RESULTS_FILE: z.string().min(1).optional(),
  BENCH_CPU_PROF_DIR: z.string().min(1).optional(),
  BENCH_TRACE: z.enum(["on", "off"], { error: "expected on or off" }).default("on"),
  BENCH_SINK_NODE_FLAGS: z
    .string()
    .transform((text) => text.split(/\s+/).filter(Boolean))
    .pipe(z.array(z.string().startsWith("--", "expected node flags such as --max-semi-space-size=4")))
    .default([]),
  BENCH_SINK_KAFKAJS: z
    .string()
    .refine((text) => {
      try {
        const value: unknown = JSON.parse(text);
        return typeof value === "object" && value !== null && !Array.isArray(value);
      } catch {
        return false;
      }
    }, 'expected a JSON object of kafkajs consumer options, e.g. {"maxBytesPerPartition":262144}')
    .optional(),
});

/** @throws ConfigError naming every bad variable at once. */
export function readBenchConfig(env: Env, defaultResultsFile: string): BenchConfig {
  const present = presentVariables(env);
  const problems = [];
  let connections: ConnectionSettings | undefined;
  try {
    connections = readConnectionSettings(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const parsed = benchEnvSchema.safeParse(present);
  if (!parsed.success) problems.push(...toConfigProblems(parsed.error));
  if (problems.length > 0 || !parsed.success || connections === undefined) throw new ConfigError(problems);
  const v = parsed.data;
  return Object.freeze({
    ...connections,
    runs: v.BENCH_RUNS,
    suites: Object.freeze([...new Set(v.BENCH_ONLY)]),
    producerReadings: v.BENCH_PRODUCER_READINGS,
    sinkReadings: v.BENCH_SINK_READINGS,
    sinkStations: v.BENCH_SINK_STATIONS,
    insertReadings: Math.min(v.BENCH_INSERT_READINGS, v.BENCH_SINK_READINGS),
    clusterReadings: v.BENCH_CLUSTER_READINGS,
    clusterSinkCpus: v.BENCH_CLUSTER_SINK_CPUS,
    latencyRate: v.BENCH_LATENCY_RATE,
    latencySeconds: v.BENCH_LATENCY_SECONDS,
    floorMessages: v.BENCH_FLOOR_MESSAGES,
    latencyHighRate: v.BENCH_LATENCY_HIGH_RATE,
    resultsFile: v.BENCH_RESULTS_FILE ?? defaultResultsFile,
    cpuProfileDir: v.BENCH_CPU_PROF_DIR,
    trace: v.BENCH_TRACE === "on",
    sinkNodeFlags: Object.freeze(v.BENCH_SINK_NODE_FLAGS),
    sinkKafkajs: v.BENCH_SINK_KAFKAJS,
  });
}
