import { describe, expect, it } from "vitest";
import { capacityFigures, READINGS_PER_STATION_YEAR } from "./capacity.ts";
import { figure } from "./report.ts";

describe("the capacity model", () => {
  const measured = [
    figure("sink.wide.cpuNode", "", "µs", [4, 5]),
    figure("sink.wide.cpuBackends", "", "µs", [8, 10]),
    figure("sink.wide.pgSink", "", "/s", [100_000, 80_000]),
    figure("sink.wide.bytesPerRow", "", "B", [290, 290]),
    figure("latency.steady.cpuNode", "", "µs", [20, 20]),
    figure("latency.steady.cpuBackends", "", "µs", [30, 30]),
  ];
  const model = new Map(capacityFigures(measured).map((f) => [f.key, f]));

  it("turns CPU per row into rows per core, and a drain rate into stations at one reading a minute", () => {
    expect(model.get("capacity.rowsPerSinkCore")?.runs).toEqual([250_000, 200_000]);
    expect(model.get("capacity.rowsPerPostgresCore")?.runs).toEqual([125_000, 100_000]);
    expect(model.get("capacity.stationsPerSink")?.runs).toEqual([6_000_000, 4_800_000]);
  });

  it("prices a year of 1,000 stations in rows, bytes and cores at the small transactions' CPU per row", () => {
    expect(READINGS_PER_STATION_YEAR).toBe(525_600);
    expect(model.get("capacity.rowsPerYear")?.median).toBe(525_600_000);
    expect(model.get("capacity.diskPerYear")?.median).toBe(290 * 525_600_000);
    const rowsPerSecond = 525_600_000 / (365 * 24 * 3600);
    expect(model.get("capacity.sinkCores")?.median).toBeCloseTo((20 * rowsPerSecond) / 1e6, 12);
    expect(model.get("capacity.postgresCores")?.median).toBeCloseTo((30 * rowsPerSecond) / 1e6, 12);
  });

  it("is empty without a drain to take it from", () => {
    expect(capacityFigures([])).toEqual([]);
  });
});
