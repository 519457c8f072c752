import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_STATIONS, STATION_CATALOG } from "@weather/schema";
import { configurationOf } from "@weather/service-kit";
import { Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import { balancedStations } from "./cluster-bench.ts";

describe("the cluster bench's stations", () => {
  it("put exactly two station keys on each of six partitions, as the producer partitions them", () => {
    const extra = balancedStations(6, 2);
    const all = [...DEFAULT_STATIONS, ...extra];
    const partitionOf = Partitioners.DefaultPartitioner();
    const metadata = Array.from({ length: 6 }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    const perPartition = new Array<number>(6).fill(0);
    for (const station of all) {
      const partition = partitionOf({
        topic: "t",
        partitionMetadata: metadata,
        message: { key: station.id, value: null },
      });
      perPartition[partition] = (perPartition[partition] ?? 0) + 1;
    }
    expect(perPartition).toEqual([2, 2, 2, 2, 2, 2]);
    expect(new Set(all.map((s) => s.city))).toEqual(new Set(DEFAULT_STATIONS.map((s) => s.city)));
  });

  it("are a valid STATIONS_FILE the workers load", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-stations-"));
    try {
      const file = join(dir, "stations.json");
      writeFileSync(file, JSON.stringify({ stations: balancedStations(6, 2) }));
      expect(
        configurationOf({ groups: { catalog: STATION_CATALOG } }, { STATIONS_FILE: file }).catalog.stations,
      ).toHaveLength(12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
