import { Counter, Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sumOf } from "./prometheus-text.ts";

describe("parsePrometheusText", () => {
  it("reads what prom-client serves, labels and all", async () => {
    // The same library and calls as pg-sink's metrics.ts, so the format is the real one.
    const registry = new Registry();
    const rows = new Counter({
      name: "pg_sink_rows_written_total",
      help: "rows",
      labelNames: ["topic"],
      registers: [registry],
    });
    const waiting = new Gauge({
      name: "pg_sink_waiting_for",
      help: "w",
      labelNames: ["dependency"],
      registers: [registry],
    });
    rows.inc({ topic: "weather.readings" }, 1234);
    rows.inc({ topic: 'odd "topic"\\name' }, 6);
    waiting.set({ dependency: "postgres" }, 1);
    const samples = parsePrometheusText(await registry.metrics());
    expect(samples).toContainEqual({
      name: "pg_sink_rows_written_total",
      labels: { topic: "weather.readings" },
      value: 1234,
    });
    expect(samples).toContainEqual({
      name: "pg_sink_rows_written_total",
      labels: { topic: 'odd "topic"\\name' },
      value: 6,
    });
    expect(sumOf(samples, "pg_sink_rows_written_total")).toBe(1240);
    expect(sumOf(samples, "pg_sink_waiting_for")).toBe(1);
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
