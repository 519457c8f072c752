import type { Counter, Histogram } from "prom-client";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWorkerMetrics,
  defineWorkerMetrics,
  type MetricDeclaration,
  metricsMarkdown,
} from "./metrics.ts";
import { PRODUCER_METRICS, SINK_METRICS } from "./worker-metrics.ts";

const DEMO = defineWorkerMetrics({
  worker: "demo",
  labels: { city: "a city of the catalog" },
  metrics: {
    sent: { type: "counter", name: "messages_sent_total", help: "Messages sent", labels: ["city"] },
    took: { type: "histogram", name: "send_duration_seconds", help: "Send time", buckets: [0.1, 1] },
  },
});

describe("createWorkerMetrics: one scheme on every worker's /metrics", () => {
  it("serves the declared metrics as weather_<worker>_*, build_info, and Node's metrics under their standard names", async () => {
    const metrics = createWorkerMetrics(DEMO, "1.2.3");
    metrics.sent.inc({ city: "winnipeg" }, 3);
    metrics.took.observe(0.5);
    const text = await metrics.registry.metrics();
    expect(text).toContain('weather_demo_messages_sent_total{city="winnipeg"} 3');
    expect(text).toContain('weather_demo_send_duration_seconds_bucket{le="1"} 1');
    expect(text).toContain(`weather_demo_build_info{version="1.2.3",node_version="${process.version}"} 1`);
    for (const standard of [
      "process_cpu_seconds_total",
      "process_start_time_seconds",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(text).toMatch(new RegExp(`^${standard} `, "m"));
    }
    expect(text).not.toMatch(/^weather_demo_(process|nodejs)_/m);
  });

  it("gives each worker a registry of its own", async () => {
    const first = createWorkerMetrics(DEMO, "1");
    const second = createWorkerMetrics(DEMO, "1");
    first.sent.inc({ city: "winnipeg" });
    expect(await second.registry.metrics()).not.toContain("weather_demo_messages_sent_total{");
  });

  it("types each metric with its declared labels", () => {
    const metrics = createWorkerMetrics(DEMO, "1");
    expectTypeOf(metrics.sent).toEqualTypeOf<Counter<"city">>();
    expectTypeOf(metrics.took).toEqualTypeOf<Histogram<string>>();
    expect(() =>
      // @ts-expect-error: station is not one of its labels
      metrics.sent.inc({ station: "CYWG" }),
    ).toThrow('Added label "station" is not included in initial labelset');
  });
});

describe("defineWorkerMetrics", () => {
  // Labels widened to string, as a declaration built at run time would be: the check still holds.
  const define = (metric: MetricDeclaration) => () =>
    defineWorkerMetrics<string, { metric: MetricDeclaration }>({
      worker: "demo",
      labels: { city: "a city" },
      metrics: { metric },
    });

  it("refuses names outside the scheme and labels it does not declare", () => {
    expect(define({ type: "counter", name: "messages_sent", help: "h" })).toThrow(
      "metric weather_demo_messages_sent is a counter: its name ends in _total",
    );
    expect(define({ type: "histogram", name: "chunk_size", help: "h", buckets: [1] })).toThrow(
      "is a histogram: its name ends in its unit",
    );
    expect(define({ type: "gauge", name: "Lag", help: "h" })).toThrow("is not snake case");
    expect(define({ type: "gauge", name: "lag_messages", help: "h", labels: ["station"] })).toThrow(
      "metric weather_demo_lag_messages uses the undeclared label station",
    );
  });

  it("holds every worker's metrics to the scheme, each name once", () => {
    const names = [SINK_METRICS, PRODUCER_METRICS].flatMap((worker) => [
      worker.buildInfo,
      ...Object.values(worker.metrics).map((metric) => metric.name),
    ]);
    for (const name of names) expect(name).toMatch(/^weather_(sink|producer)_[a-z0-9_]+$/);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("metricsMarkdown", () => {
  it("tables every metric with its type, labels and meaning, build_info included, and every label's bound", () => {
    const lines = metricsMarkdown(DEMO).split("\n");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^\| `weather_demo_messages_sent_total` +\| counter +\| `city` +\| Messages sent +\|$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\| `weather_demo_build_info` +\| gauge +\| `version`, `node_version` +\|/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\| `city` +\| a city of the catalog +\|$/));
  });
});
