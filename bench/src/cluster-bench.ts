import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sideClusterContext, startSideCluster, stopSideCluster } from "@weather/infra";
import { DEFAULT_STATIONS, STATION_CATALOG, type Station } from "@weather/schema";
import { configurationOf } from "@weather/service-kit";
import { Partitioners } from "kafkajs";
import type { BenchConfig } from "./config.ts";
import { runSensorProducer } from "./producer-bench.ts";
import { type Figure, figure } from "./report.ts";
import { drainWithPgSink } from "./sink-bench.ts";
import { ratio } from "./stats.ts";
import { BENCH_PARTITIONS, openBenchWorld } from "./world.ts";

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

/**
 * The drain rate of 1, 2 and 3 pg-sink instances on a three-broker cluster: the side cluster the
 * stack manager starts beside the shared stack (ports from 19092, .stack/cluster), started here and
 * stopped at the end. One backlog of `clusterReadings` readings, with the stations spread evenly
 * over the partitions, is produced once (RF 3, min.insync.replicas 2: the cluster's defaults);
 * every drain stores all of it into a fresh database with a fresh group. The order of the
 * instance counts rotates between runs, so a slower stretch of this shared machine does not
 * always fall on the same one.
 */
export async function clusterSuite(config: BenchConfig, log: (line: string) => void): Promise<Figure[]> {
  const context = sideClusterContext((message) => log(`  ${message}`));
  log(`cluster: starting ${context.kafka.nodes.length} brokers at ${context.kafka.bootstrapServers}`);
  const started = performance.now();
  await startSideCluster(context);
  log(`  cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const folder = mkdtempSync(join(tmpdir(), "bench-cluster-"));
  try {
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
    try {
      const topic = await world.createTopic("cluster");
      log(
        `cluster: filling a backlog of ${config.clusterReadings} readings from ${catalog.stations.length} stations`,
      );
      const fill = await runSensorProducer(world, topic, config.clusterReadings, env);
      log(`  filled: ${fill.readings} readings at ${Math.round(fill.readingsPerSecond)} readings/s`);
      const backlog = { topic, readings: fill.readings };
      const rates = new Map<number, number[]>(SINK_INSTANCES.map((n) => [n, []]));
      for (let run = 1; run <= config.runs; run++) {
        const order = SINK_INSTANCES.map(
          (_, i) => SINK_INSTANCES[(i + run - 1) % SINK_INSTANCES.length] ?? 1,
        );
        for (const instances of order) {
          const drain = await drainWithPgSink(world, backlog, { run, instances, env });
          rates.get(instances)?.push(drain.rowsPerSecond);
          log(`  run ${run}/${config.runs}, ${instances} sink(s): ${Math.round(drain.rowsPerSecond)} rows/s`);
        }
      }
      const of = (n: number) => rates.get(n) ?? [];
      return [
        figure(
          "cluster.fill",
          "sensor-producer into the 3-broker cluster, RF 3, backfill (readings/s)",
          "/s",
          [fill.readingsPerSecond],
        ),
        ...SINK_INSTANCES.map((n) =>
          figure(
            `cluster.drain${n}`,
            `${n} pg-sink instance${n === 1 ? "" : "s"} draining ${fill.readings} readings from 3 brokers (rows/s)`,
            "/s",
            of(n),
          ),
        ),
        figure(
          "cluster.scale2",
          "2 sink instances / 1, on the cluster",
          "x",
          of(2).map((rate, i) => ratio(rate, of(1)[i] ?? Number.NaN)),
        ),
        figure(
          "cluster.scale3",
          "3 sink instances / 1, on the cluster",
          "x",
          of(3).map((rate, i) => ratio(rate, of(1)[i] ?? Number.NaN)),
        ),
      ];
    } finally {
      await world.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
    await stopSideCluster(context);
    log("  cluster stopped");
  }
}
