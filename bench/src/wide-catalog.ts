import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStationCatalog, DEFAULT_STATIONS, type Station, type StationCatalog } from "@weather/schema";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { BENCH_PARTITIONS } from "./world.ts";

/** A station catalog written to a STATIONS_FILE, for the producer and the sink alike. */
export interface CatalogFile {
  readonly catalog: StationCatalog;
  /** For the workers' STATIONS_FILE. */
  readonly path: string;
  /** How many of its stations each partition of a BENCH_PARTITIONS topic gets. */
  readonly stationsPerPartition: readonly number[];
}

/** Cities the extra stations are spread over, besides the built-in two. */
const EXTRA_CITIES = ["calgary", "edmonton", "regina", "toronto"] as const;

function partitionOf(stationId: string): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from(
    { length: BENCH_PARTITIONS },
    (_, partitionId): PartitionMetadata => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
    }),
  );
  return partitioner({ topic: "any", partitionMetadata, message: { key: stationId, value: null } });
}

/**
 * A catalog whose stations fill every partition of a BENCH_PARTITIONS topic equally: the key is the
 * station id, so the two built-in stations fill only two of six. The built-in stations stay; extra
 * ones (ids BNCH00, BNCH01, ...; the built-ins' climate, in four more cities) are added where their
 * id hashes (murmur2, as sensor-producer's partitioner) to a partition still short of stations.
 */
export function wideCatalog(stations: number, runId: string): CatalogFile {
  const perPartition = Math.ceil(stations / BENCH_PARTITIONS);
  const counts = Array.from({ length: BENCH_PARTITIONS }, () => 0);
  const chosen: Station[] = [];
  for (const station of DEFAULT_STATIONS) {
    counts[partitionOf(station.id)] = (counts[partitionOf(station.id)] ?? 0) + 1;
    chosen.push(station);
  }
  for (let n = 0; chosen.length < BENCH_PARTITIONS * perPartition && n < 10_000; n++) {
    const id = `BNCH${String(n).padStart(2, "0")}`;
    const partition = partitionOf(id);
    if ((counts[partition] ?? 0) >= perPartition) continue;
    counts[partition] = (counts[partition] ?? 0) + 1;
    const template = DEFAULT_STATIONS[chosen.length % DEFAULT_STATIONS.length] as Station;
    const city = EXTRA_CITIES[chosen.length % EXTRA_CITIES.length] as string;
    chosen.push({ ...template, id, city, name: `Bench station ${id} (${city})` });
  }
  const path = join(tmpdir(), `bench-stations-${runId}.json`);
  // Only the extra stations: the file adds to the built-in catalog, as STATIONS_FILE does.
  writeFileSync(path, JSON.stringify(chosen.slice(DEFAULT_STATIONS.length), null, 2));
  return { catalog: createStationCatalog(chosen), path, stationsPerPartition: counts };
}
