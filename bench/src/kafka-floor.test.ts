import { describe, expect, it } from "vitest";
import { parseEndToEndLatency } from "./kafka-floor.ts";

describe("parseEndToEndLatency", () => {
  it("reads the average and the percentiles of EndToEndLatency's closing lines", () => {
    // As Kafka 4.1's tool prints them (a progress line every 1,000 messages before).
    const output = [
      'Topic "bench.floor.x.1" does not exist. Will create topic with 1 partition(s) and replication factor = 1',
      "0\t92.36751600000001",
      "Avg latency: 1.6086 ms",
      "Percentiles: 50th = 1, 99th = 9, 99.9th = 22",
    ].join("\n");
    expect(parseEndToEndLatency(output, 5_000)).toEqual({
      messages: 5_000,
      avg: 1.6086,
      p50: 1,
      p99: 9,
      p999: 22,
    });
  });

  it("is undefined when the tool did not finish", () => {
    expect(parseEndToEndLatency("Exception in thread main", 5_000)).toBeUndefined();
  });
});
