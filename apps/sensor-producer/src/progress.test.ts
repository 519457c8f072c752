import { DEFAULT_STATIONS } from "@weather/schema";
import { createLogger, PRODUCER_METRICS } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { createMessyStream, NO_MESS } from "./messy-stream.ts";
import { createProducerMetrics } from "./metrics.ts";
import { startProgress } from "./progress.ts";
import { createSimulation } from "./simulate.ts";

describe("startProgress", () => {
  it("counts sent messages by city on /metrics, invalid ones under their station's city, and by station in the summary", async () => {
    const metrics = createProducerMetrics();
    const progress = startProgress(createLogger("test", { level: "silent" }), 60_000, metrics);
    const at = Date.UTC(2025, 0, 1);
    // Each reading followed by an invalid one, of a station the catalog does not have: still counted
    // under a city of the catalog.
    const stream = createMessyStream(
      DEFAULT_STATIONS,
      "progress",
      { ...NO_MESS, invalidFraction: 1, invalidKinds: ["unknown-station"] },
      60_000,
    );
    const readings = createSimulation(DEFAULT_STATIONS, "progress").readingsAt(new Date(at));
    const batch = [...stream.at(at, readings), ...stream.drain()];
    progress.recordSent(batch, 20);
    progress.recordSent(batch);
    progress.stop();

    const text = await metrics.registry.metrics();
    const sent = PRODUCER_METRICS.metrics.messagesSent.name;
    const cities = [...new Set(DEFAULT_STATIONS.map((station) => station.city))];
    for (const city of cities) {
      const perCity = batch.filter((message) => message.reading.city === city).length;
      expect(perCity).toBeGreaterThan(0);
      expect(text).toContain(`${sent}{city="${city}"} ${2 * perCity}`);
    }
    expect(text.match(new RegExp(`^${sent}\\{`, "gm"))).toHaveLength(cities.length);
    expect(text).toContain(`${PRODUCER_METRICS.metrics.sendDuration.name}_count 1`);
    const { sent: total, sentByStation } = progress.summary();
    expect(total).toBe(2 * batch.length);
    // The summary keeps the stations, those the catalog does not have included; /metrics does not.
    const unknown = Object.keys(sentByStation).filter((id) => !DEFAULT_STATIONS.some((s) => s.id === id));
    expect(unknown.length).toBeGreaterThan(0);
    for (const id of unknown) expect(text).not.toContain(id);
  });
});
