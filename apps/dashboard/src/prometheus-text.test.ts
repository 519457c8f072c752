import { createWorkerMetrics, SINK_METRICS } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sumOf } from "./prometheus-text.ts";

describe("parsePrometheusText", () => {
  it("reads what a sink serves, labels and all", async () => {
    // The sink's own metrics, as pg-sink's metrics.ts makes them, so the format is the real one.
    const metrics = createWorkerMetrics(SINK_METRICS, "1.2.3");
    const { rowsWritten, waitingFor } = SINK_METRICS.metrics;
    metrics.rowsWritten.inc({ topic: "weather.readings" }, 1234);
    metrics.rowsWritten.inc({ topic: 'odd "topic"\\name' }, 6);
    metrics.waitingFor.set({ dependency: "PostgreSQL" }, 1);
    const samples = parsePrometheusText(await metrics.registry.metrics());
    expect(samples).toContainEqual({
      name: rowsWritten.name,
      labels: { topic: "weather.readings" },
      value: 1234,
    });
    expect(samples).toContainEqual({
      name: rowsWritten.name,
      labels: { topic: 'odd "topic"\\name' },
      value: 6,
    });
    expect(samples).toContainEqual({
      name: SINK_METRICS.buildInfo,
      labels: { version: "1.2.3", node_version: process.version },
      value: 1,
    });
    expect(sumOf(samples, rowsWritten.name)).toBe(1240);
    expect(sumOf(samples, waitingFor.name)).toBe(1);
    expect(sumOf(samples, "process_start_time_seconds")).toBeGreaterThan(0);
    expect(sumOf(samples, "absent_metric")).toBeUndefined();
  });

  it("reads unlabelled samples, timestamps, infinities, and skips comments and broken lines", () => {
    const text = [
      "# HELP up whether",
      "# TYPE up gauge",
      "up 1",
      "process_start_time_seconds 1700000000 1700000000123",
      'le_bucket{le="+Inf"} +Inf',
      "broken{label=unquoted} 3",
      "",
    ].join("\n");
    expect(parsePrometheusText(text)).toEqual([
      { name: "up", labels: {}, value: 1 },
      { name: "process_start_time_seconds", labels: {}, value: 1_700_000_000 },
      { name: "le_bucket", labels: { le: "+Inf" }, value: Number.POSITIVE_INFINITY },
    ]);
  });
});
