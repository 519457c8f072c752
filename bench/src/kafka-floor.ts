import { spawn } from "node:child_process";
import type { KafkaTools } from "./java.ts";
import type { BenchWorld } from "./world.ts";

/** What Kafka's own end-to-end tool measured: send -> consumed, one message at a time. */
export interface KafkaFloor {
  readonly messages: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly avg: number;
}

/** Messages per run, and their size: about a reading's (a Confluent-framed Avro value is 86-90 B). */
export const FLOOR_MESSAGES = 5_000;
export const FLOOR_MESSAGE_BYTES = 90;

const AVERAGE = /Avg latency: ([\d.]+) ms/;
const PERCENTILES = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/;

/** Reads EndToEndLatency's closing lines ("Avg latency: 1.61 ms", "Percentiles: 50th = 1, 99th = 9, 99.9th = 22"). */
export function parseEndToEndLatency(output: string, messages: number): KafkaFloor | undefined {
  const average = AVERAGE.exec(output);
  const percentiles = PERCENTILES.exec(output);
  if (average === null || percentiles === null) return undefined;
  return {
    messages,
    avg: Number(average[1]),
    p50: Number(percentiles[1]),
    p99: Number(percentiles[2]),
    p999: Number(percentiles[3]),
  };
}

/**
 * Kafka's own floor on this broker: `org.apache.kafka.tools.EndToEndLatency` (kafka-tools, in the
 * jars the stack runs Kafka from) sends `messages` messages of FLOOR_MESSAGE_BYTES with acks=all,
 * one at a time, each timed from before its send until its consumer's poll returns it, on a fresh
 * one-partition topic. Its percentiles are whole milliseconds, rounded down (the tool keeps each
 * latency as a long of ms); its average is exact.
 */
export async function runKafkaFloor(
  world: BenchWorld,
  tools: KafkaTools,
  brokers: readonly string[],
  messages = FLOOR_MESSAGES,
): Promise<KafkaFloor> {
  const topic = await world.createTopic("floor", 1);
  try {
    const args = [
      "-Xmx256m",
      "-cp",
      tools.classpath,
      "org.apache.kafka.tools.EndToEndLatency",
      brokers.join(","),
      topic,
      String(messages),
      "all",
      String(FLOOR_MESSAGE_BYTES),
    ];
    const child = spawn(tools.java, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", resolve);
    });
    const floor = parseEndToEndLatency(output, messages);
    if (code !== 0 || floor === undefined)
      throw new Error(`EndToEndLatency exited with ${code}; output: ${output.slice(-2000)}`);
    return floor;
  } finally {
    await world.deleteTopic(topic);
  }
}
