import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { daemonState, sideClusterContext, startSideCluster, stopSideCluster } from "@weather/infra";
import { DEFAULT_STATIONS, STATION_CATALOG, type Station } from "@weather/schema";
import { configurationOf } from "@weather/settings";
import { Partitioners } from "kafkajs";
import { CPU_PERIOD_US, type CpuGroup, type CpuLimiter, detectCpuLimiter, withCpuGroups } from "./cgroup.ts";
import type { BenchConfig } from "./config.ts";
import { onInterrupt } from "./interrupt.ts";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { CpuMeter, cpuMicrosOf } from "./proc.ts";
import { runSensorProducer } from "./producer-bench.ts";
import { type Figure, inSection } from "./report.ts";
import {
  type Backlog,
  CAUGHT_UP_POLL_MS,
  databaseOf,
  drainedRows,
  openSql,
  startDrainingSink,
  storedOffsets,
} from "./sink-bench.ts";
import { ratio } from "./stats.ts";
import { assertClean, type LogLine, type Worker } from "./worker.ts";
import { BENCH_PARTITIONS, type BenchWorld, openBenchWorld } from "./world.ts";

/** How many pg-sink instances drain the backlog, side by side in one group, per figure. */
export const SINK_INSTANCES = [1, 2, 3] as const;

/** Stations per partition: enough keys that every instance of three gets the same share. */
const STATIONS_PER_PARTITION = 2;

/**
 * The built-in stations plus generated ones (copies of them under new ids, so no new city table),
 * chosen so that murmur2 puts exactly `perPartition` station keys on each partition: with two
 * built-in stations only two of six partitions would have readings, and a third sink instance
 * nothing to do.
 */
export function balancedStations(partitions: number, perPartition: number): Station[] {
  const partitionOf = Partitioners.DefaultPartitioner();
  const metadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  const place = (id: string) =>
    partitionOf({ topic: "bench", partitionMetadata: metadata, message: { key: id, value: null } });
  const counts = new Array<number>(partitions).fill(0);
  for (const station of DEFAULT_STATIONS) counts[place(station.id)] = (counts[place(station.id)] ?? 0) + 1;
  const extra: Station[] = [];
  for (let i = 0; counts.some((count) => count < perPartition); i++) {
    const id = `BENCH${i}`;
    const partition = place(id);
    if ((counts[partition] ?? 0) >= perPartition) continue;
    counts[partition] = (counts[partition] ?? 0) + 1;
    const model = DEFAULT_STATIONS[extra.length % DEFAULT_STATIONS.length] as Station;
    extra.push({ ...model, id, name: `${model.name} (bench copy ${i})` });
  }
  return extra;
}

/** A drain by `instances` sinks in one group: its rate once the group settled, and who used the CPU meanwhile. */
export interface ClusterDrain {
  readonly rowsPerSecond: number;
  /** Rows stored while measured: from the moment every instance held its final share of partitions. */
  readonly measuredRows: number;
  /** Cores used on average while measured: the sinks' node processes, their PostgreSQL backends, the brokers' JVMs. */
  readonly cores: { readonly sinks: number; readonly backends: number; readonly brokers: number };
  /** Of the CFS periods in which a sink ran, the share in which it used up its quota (NaN without quotas). */
  readonly throttledShare: number;
}

/** The partitions of a sink's latest "joined the consumer group" line, or undefined before its first. */
function assignmentOf(logs: readonly LogLine[]): number[] | undefined {
  const joined = logs.findLast((line) => line.msg === "joined the consumer group");
  return Array.isArray(joined?.partitions) ? (joined.partitions as number[]) : undefined;
}

/** Every instance has joined and the latest assignments split the partitions without overlap. */
function groupSettled(workers: readonly Worker[], partitions: number): boolean {
  const seen = new Set<number>();
  for (const worker of workers) {
    const assignment = assignmentOf(worker.logs);
    if (assignment === undefined) return false;
    for (const partition of assignment) {
      if (seen.has(partition)) return false;
      seen.add(partition);
    }
  }
  return seen.size === partitions;
}

/**
 * `instances` pg-sink processes in one group drain the backlog into a fresh database, each in a
 * CPU group of its own when `quota` is given (the way a container runtime limits each pod).
 * Measured from the moment the group settled (every instance logged its final share of the
 * partitions: each start-up, which under a small quota takes seconds, and each rebalance is left
 * out) to the poll that sees every partition stored: rows stored in between over that time, and
 * the CPU time of the sinks, their backends and the brokers over the same time.
 */
export async function drainWithInstances(
  world: BenchWorld,
  backlog: Pick<Backlog, "topic" | "readings">,
  options: {
    readonly run: number;
    readonly instances: number;
    readonly env: Readonly<Record<string, string>>;
    readonly quota: { readonly limiter: CpuLimiter; readonly cpus: number } | undefined;
    readonly brokerPids: readonly number[];
    readonly sinkNodeFlags: readonly string[];
  },
): Promise<ClusterDrain> {
  const { instances, quota } = options;
  const databaseUrl = await world.createDatabase("sink");
  const group = `bench-sink-${world.runId}-${instances}-${options.run}`;
  const sql = openSql(databaseUrl);
  const drain = async (cpuGroups: readonly CpuGroup[]): Promise<ClusterDrain> => {
    const watermarks = await highWatermarks(world.admin, backlog.topic);
    const total = totalOf(watermarks);
    const workers = Array.from({ length: instances }, (_, i) => {
      const worker = startDrainingSink({
        databaseUrl,
        topic: backlog.topic,
        group,
        env: options.env,
        nodeFlags: options.sinkNodeFlags,
      });
      if (worker.child.pid !== undefined) cpuGroups[i]?.add(worker.child.pid);
      return worker;
    });
    let exited = 0;
    for (const worker of workers)
      void worker.exited.finally(() => {
        exited += 1;
      });
    while (!groupSettled(workers, watermarks.size) && exited === 0) await sleep(CAUGHT_UP_POLL_MS);
    const settledAt = performance.now();
    const storedAtStart = await storedOffsets(sql, group, backlog.topic);
    const throttledBefore = cpuGroups.map((g) => g.throttling());
    const meter = await CpuMeter.start(sql, {
      processes: {
        sinks: workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid])),
        brokers: options.brokerPids,
      },
      database: databaseOf(databaseUrl),
      applicationName: "pg-sink %",
    });
    let caughtUpAt: number | undefined;
    while (caughtUpAt === undefined && exited < instances) {
      await meter.sample();
      if ((await storedOffsets(sql, group, backlog.topic)) >= total) caughtUpAt = performance.now();
      else await sleep(CAUGHT_UP_POLL_MS);
    }
    const throttledAfter = cpuGroups.map((g) => g.throttling());
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    for (const exit of exits) assertClean("pg-sink", exit);
    await drainedRows(sql, Date.now(), backlog.readings); // every reading stored, or it throws
    const elapsedMs = (caughtUpAt ?? performance.now()) - settledAt;
    const measuredRows = total - storedAtStart;
    const used = meter.used();
    const cores = (micros: number | undefined) => (micros ?? Number.NaN) / 1000 / elapsedMs;
    const periods = throttledAfter.reduce(
      (sum, t, i) => sum + t.periods - (throttledBefore[i]?.periods ?? 0),
      0,
    );
    const throttled = throttledAfter.reduce(
      (sum, t, i) => sum + t.throttledPeriods - (throttledBefore[i]?.throttledPeriods ?? 0),
      0,
    );
    return {
      rowsPerSecond: (measuredRows * 1000) / elapsedMs,
      measuredRows,
      cores: { sinks: cores(used.sinks), backends: cores(used.backends), brokers: cores(used.brokers) },
      throttledShare: cpuGroups.length === 0 ? Number.NaN : ratio(throttled, periods),
    };
  };
  try {
    return quota === undefined
      ? await drain([])
      : await withCpuGroups(quota.limiter, instances, quota.cpus, drain);
  } finally {
    await sql.end({ timeout: 5 });
    await world.admin.deleteGroups([group]).catch(() => {});
    await world.dropDatabase(databaseUrl);
  }
}

/** The JVM of each broker of the side cluster, for their CPU time. */
function brokerPidsOf(context: ReturnType<typeof sideClusterContext>): number[] {
  return context.kafka.nodes.flatMap((node) => {
    const state = daemonState(context.paths.run, node.name);
    return state.kind === "running" ? [state.pid] : [];
  });
}

/**
 * Which CPU quota each sink gets, and how the bench says so. Without a writable cgroup the drains
 * still run, unlimited, and the table says their ratios show no scale-out.
 */
function quotaFor(config: BenchConfig, log: (line: string) => void): ClusterQuota {
  const probe = detectCpuLimiter();
  if ("limiter" in probe) {
    log(
      `cluster: each pg-sink instance limited to ${config.clusterSinkCpus} CPU (cgroup ${probe.limiter.version}, ` +
        `quota ${Math.round(config.clusterSinkCpus * CPU_PERIOD_US)} µs per ${CPU_PERIOD_US} µs period, groups under ${probe.limiter.parent})`,
    );
    return { limiter: probe.limiter, cpus: config.clusterSinkCpus };
  }
  log(`cluster: NO CPU QUOTA per instance, the cgroups cannot be written here: ${probe.problem}`);
  log("  the instances share this machine's cores, so their ratios do not show scale-out");
  return undefined;
}

type ClusterQuota = { readonly limiter: CpuLimiter; readonly cpus: number } | undefined;

/**
 * The drain rate of 1, 2 and 3 pg-sink instances on a three-broker cluster: the side cluster the
 * stack manager starts beside the shared stack (ports from 19092, .stack/cluster), started here and
 * stopped at the end (or on Ctrl-C). One backlog of `clusterReadings` readings, with the stations
 * spread evenly over the partitions, is produced once (RF 3, min.insync.replicas 2: the cluster's
 * defaults); every drain stores all of it into a fresh database with a fresh group, each instance
 * under its own CPU quota (BENCH_CLUSTER_SINK_CPUS), as separate hosts or pods would be. The
 * order of the instance counts rotates between runs, so a slower stretch of this shared machine
 * does not always fall on the same one.
 */
export async function clusterSuite(config: BenchConfig, log: (line: string) => void): Promise<Figure[]> {
  const quota = quotaFor(config, log);
  const context = sideClusterContext((message) => log(`  ${message}`));
  log(`cluster: starting ${context.kafka.nodes.length} brokers at ${context.kafka.bootstrapServers}`);
  const started = performance.now();
  const stopOnInterrupt = onInterrupt(() => stopSideCluster(context));
  const folder = mkdtempSync(join(tmpdir(), "bench-cluster-"));
  try {
    await startSideCluster(context);
    log(`  cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const brokerPids = brokerPidsOf(context);
    const stationsFile = join(folder, "stations.json");
    writeFileSync(
      stationsFile,
      JSON.stringify({ stations: balancedStations(BENCH_PARTITIONS, STATIONS_PER_PARTITION) }),
    );
    const env = { KAFKA_BROKERS: context.kafka.bootstrapServers, STATIONS_FILE: stationsFile };
    const catalog = configurationOf({ groups: { catalog: STATION_CATALOG } }, env).catalog;
    const world = await openBenchWorld(
      { ...config, kafkaBrokers: context.kafka.bootstrapServers.split(",") },
      catalog,
    );
    const closeOnInterrupt = onInterrupt(() => world.close());
    try {
      const topic = await world.createTopic("cluster");
      log(
        `cluster: filling a backlog of ${config.clusterReadings} readings from ${catalog.stations.length} stations`,
      );
      const fill = await runSensorProducer(world, topic, config.clusterReadings, env);
      log(`  filled: ${fill.readings} readings at ${Math.round(fill.readingsPerSecond)} readings/s`);
      const backlog = { topic, readings: fill.readings };
      const brokersIdle = await idleCores(brokerPids);
      log(`  the three brokers, idle: ${brokersIdle.toFixed(2)} cores`);
      const drains = new Map<number, ClusterDrain[]>(SINK_INSTANCES.map((n) => [n, []]));
      for (let run = 1; run <= config.runs; run++) {
        const order = SINK_INSTANCES.map(
          (_, i) => SINK_INSTANCES[(i + run - 1) % SINK_INSTANCES.length] ?? 1,
        );
        for (const instances of order) {
          const drain = await drainWithInstances(world, backlog, {
            run,
            instances,
            env,
            quota,
            brokerPids,
            sinkNodeFlags: config.sinkNodeFlags,
          });
          drains.get(instances)?.push(drain);
          log(
            `  run ${run}/${config.runs}, ${instances} sink(s): ${Math.round(drain.rowsPerSecond)} rows/s over ${drain.measuredRows} rows; ` +
              `cores: sinks ${drain.cores.sinks.toFixed(2)}, PostgreSQL ${drain.cores.backends.toFixed(2)}, brokers ${drain.cores.brokers.toFixed(2)}; ` +
              `throttled in ${(drain.throttledShare * 100).toFixed(0)} % of periods`,
          );
        }
      }
      return clusterFigures({
        fillRate: fill.readingsPerSecond,
        readings: fill.readings,
        brokersIdle,
        drains,
        quota,
      });
    } finally {
      closeOnInterrupt();
      await world.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
    await stopSideCluster(context);
    stopOnInterrupt();
    log("  cluster stopped");
  }
}

/** Cores the processes use with nothing to do (the brokers between drains: KRaft, replica fetchers, timers). */
async function idleCores(pids: readonly number[], seconds = 5): Promise<number> {
  const total = async () => {
    let micros = 0;
    for (const pid of pids) micros += (await cpuMicrosOf(pid)) ?? 0;
    return micros;
  };
  const before = await total();
  await sleep(seconds * 1000);
  return ((await total()) - before) / (seconds * 1e6);
}

function clusterFigures(measured: {
  readonly fillRate: number;
  readonly readings: number;
  readonly brokersIdle: number;
  readonly drains: ReadonlyMap<number, readonly ClusterDrain[]>;
  readonly quota: ClusterQuota;
}): Figure[] {
  const { fillRate, readings, drains, quota } = measured;
  const scaleOut = inSection("Scale-out");
  const of = (n: number) => drains.get(n) ?? [];
  const rates = (n: number) => of(n).map((d) => d.rowsPerSecond);
  const limit = quota === undefined ? "no CPU quota" : `${quota.cpus} CPU each`;
  const perInstance = SINK_INSTANCES.flatMap((n) => {
    const label = `${n} instance${n === 1 ? "" : "s"}`;
    const rows: [string, string, string, (d: ClusterDrain) => number][] = [
      [
        `drain${n}`,
        `${label} (${limit}) draining ${readings} readings from 3 brokers (rows/s)`,
        "/s",
        (d) => d.rowsPerSecond,
      ],
      [`cores${n}.sinks`, `  cores used by the sinks' node processes`, "cores", (d) => d.cores.sinks],
      [`cores${n}.backends`, `  cores used by their PostgreSQL backends`, "cores", (d) => d.cores.backends],
      [`cores${n}.brokers`, `  cores used by the three brokers`, "cores", (d) => d.cores.brokers],
      [`throttled${n}`, `  CFS periods in which a sink used up its quota`, "%", (d) => d.throttledShare],
      [
        `cpuPerRow${n}.sinks`,
        `  CPU per row: the sinks`,
        "µs",
        (d) => (d.cores.sinks * 1e6) / d.rowsPerSecond,
      ],
      [
        `cpuPerRow${n}.backends`,
        `  CPU per row: their backends`,
        "µs",
        (d) => (d.cores.backends * 1e6) / d.rowsPerSecond,
      ],
    ];
    return rows.map(([name, text, unit, value]) => scaleOut(`cluster.${name}`, text, unit, of(n).map(value)));
  });
  const scale = (n: number) => rates(n).map((rate, i) => ratio(rate, rates(1)[i] ?? Number.NaN));
  return [
    scaleOut("cluster.fill", "sensor-producer into the 3-broker cluster, RF 3, backfill (readings/s)", "/s", [
      fillRate,
    ]),
    scaleOut(
      "cluster.brokersIdle",
      "cores used by the three brokers, idle (5 s before the drains)",
      "cores",
      [measured.brokersIdle],
    ),
    ...perInstance,
    scaleOut("cluster.scale2", `2 sink instances / 1 (${limit})`, "x", scale(2), { op: ">=", value: 1.8 }),
    scaleOut("cluster.scale3", `3 sink instances / 1 (${limit})`, "x", scale(3), { op: ">=", value: 2.5 }),
    inSection("Capacity")(
      "cluster.rowsPerSinkCore",
      "rows/s per core of pg-sink under its quota (1 instance on the cluster: its rate over the cores it used)",
      "/s",
      of(1).map((d) => d.rowsPerSecond / d.cores.sinks),
    ),
  ];
}
