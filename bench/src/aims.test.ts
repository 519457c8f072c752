import { describe, expect, it } from "vitest";
import { explain, renderAims } from "./aims.ts";
import { figure } from "./report.ts";

describe("the closing table of aims", () => {
  const figures = [
    figure("latency.steady.p50", "latency p50, 2,000/s", "ms", [11], { op: "<=", value: 5 }),
    figure("latency.steady.floor.p50", "", "ms", [0]),
    figure("latency.steady.floor.avg", "", "ms", [1.1]),
    figure("latency.steady.kafkaOnly.p50", "", "ms", [3.2]),
    figure("latency.steady.phase.statements.p50", "", "ms", [4.6]),
    figure("latency.steady.tx.roundTrips", "", "", [5]),
    figure("producer.ratio", "sensor-producer / ProducerPerformance", "%", [1.5], { op: ">=", value: 0.5 }),
    figure("sink.builtin.pgSink", "no aim", "/s", [1]),
  ];

  it("explains a miss with the figures measured beside it", () => {
    const why = explain(figures[0] as (typeof figures)[number], figures) ?? "";
    expect(why).toContain("Kafka's floor 0.0 ms");
    expect(why).toContain("average 1.1 ms");
    expect(why).toContain("plain kafkajs consumer 3.2 ms");
    expect(why).toContain("statements 4.6 ms");
    expect(why).toContain("5 round trips per transaction");
    // Steps the run did not measure say so instead of disappearing.
    expect(why).toContain("COMMIT n/a");
  });

  it("lists every figure with an aim, met or missed, and no other", () => {
    const table = renderAims(figures);
    expect(table).toMatch(/\| latency p50, 2,000\/s +\| 11 ms +\| <= 5.0 ms +\| MISSED \| Kafka's floor/);
    expect(table).toMatch(/\| sensor-producer \/ ProducerPerformance +\| 150 % +\| >= 50 % +\| met +\|/);
    expect(table).not.toContain("no aim");
  });
});
