import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import {
  createReadingDecoder,
  registerReadingSchemas,
  STATION_CATALOG,
  validateReading,
  type WeatherReading,
} from "@weather/schema";
import {
  createKafka,
  createRegistryClient,
  createTopicsAndWait,
  PRODUCER_METRICS,
} from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { collectTopicToEnd, deleteReadingSubjects, freePort, testSettings } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulation } from "../src/simulate.ts";

// Runs the real producer process against the real stack (`pnpm stack up`), on topics of its own:
// the tests of every package share one broker and registry.
const settings = testSettings;
// The catalog the producer, started with this environment, simulates.
const { catalog } = configurationOf({ groups: { catalog: STATION_CATALOG } }, process.env);
const stationIds = catalog.stations.map((station) => station.id);
const runId = randomUUID().slice(0, 8);
const appDir = fileURLToPath(new URL("..", import.meta.url));
const kafka = createKafka(settings.kafka, { clientId: `sensor-producer-test-${runId}` });
const admin = kafka.admin();
const registry = createRegistryClient(settings.registry);
const topics = {
  avro: `test.sensor-producer.avro.${runId}`,
  json: `test.sensor-producer.json.${runId}`,
  sigterm: `test.sensor-producer.sigterm.${runId}`,
};

interface ProducerRun {
  readonly code: number | null;
  readonly logs: readonly Record<string, unknown>[];
  readonly stderr: string;
}

function startProducer(
  topic: string,
  args: readonly string[],
): { child: ChildProcess; done: Promise<ProducerRun> } {
  const child = spawn(process.execPath, ["--conditions=@weather/source", "src/main.ts", ...args], {
    cwd: appDir,
    env: { ...process.env, READINGS_TOPIC: topic, LOG_LEVEL: "info", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = once(child, "exit").then(([code]) => ({
    code: code as number | null,
    logs: stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>),
    stderr,
  }));
  return { child, done };
}

function finalSummary(run: ProducerRun): { sent: number; sentByStation: Record<string, number> } {
  const stopped = run.logs.find((entry) => entry.msg === "stopped");
  if (stopped === undefined) throw new Error(`the producer logged no summary; stderr: ${run.stderr}`);
  return stopped as unknown as { sent: number; sentByStation: Record<string, number> };
}

interface Consumed {
  readonly key: string;
  readonly partition: number;
  readonly reading: WeatherReading;
  readonly headers: Record<string, string>;
}

/** Reads the topic from the beginning up to its current end, decoding every value. */
async function consumeAll(topic: string): Promise<Consumed[]> {
  const decoder = createReadingDecoder(registry.client, { catalog });
  const consumed: Consumed[] = [];
  for (const message of await collectTopicToEnd(kafka, admin, topic, 60_000)) {
    const value = message.value;
    if (value === null) throw new Error("a message without a value");
    consumed.push({
      key: message.key?.toString() ?? "",
      partition: message.partition,
      reading: await decoder.decode(value),
      headers: Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, header]) => [name, String(header)]),
      ),
    });
  }
  return consumed;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

function expectKeyedAndValid(consumed: readonly Consumed[]): void {
  const partitionsOf = new Map<string, Set<number>>();
  for (const { key, partition, reading } of consumed) {
    expect(key).toBe(reading.stationId);
    expect(validateReading(reading, catalog)).toMatchObject({ ok: true });
    partitionsOf.set(key, (partitionsOf.get(key) ?? new Set()).add(partition));
  }
  // Keyed by station: each station's readings sit in one partition, in order.
  for (const partitions of partitionsOf.values()) expect(partitions.size).toBe(1);
  expect(new Set(consumed.map((c) => c.reading.readingId)).size).toBe(consumed.length);
}

beforeAll(async () => {
  await admin.connect();
  await createTopicsAndWait(
    admin,
    Object.values(topics).map((topic) => ({ topic, numPartitions: 6 })),
  );
  // The Avro topic's schemas are registered up front, as bootstrap does; the JSON topic relies on
  // the encoder registering on demand.
  await registerReadingSchemas(registry, topics.avro);
});

afterAll(async () => {
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
  await admin.disconnect();
  for (const topic of Object.values(topics)) await deleteReadingSubjects(settings.registry, topic);
});

describe("sensor-producer against the real stack", () => {
  it("puts exactly 134 Avro readings per station on the topic with --count 134, keyed by station", async () => {
    const run = await startProducer(topics.avro, ["--count", "134"]).done;
    expect(run.code, run.stderr).toBe(0);
    expect(finalSummary(run).sent).toBe(134 * stationIds.length);

    const consumed = await consumeAll(topics.avro);
    expect(countBy(consumed, (c) => c.key)).toEqual(Object.fromEntries(stationIds.map((id) => [id, 134])));
    expectKeyedAndValid(consumed);
    expect(consumed[0]?.headers.format).toBe("avro");
  });

  it("does the same in JSON, with exactly the readings the seeded simulation gives", async () => {
    const from = "2024-01-15T00:00:00.000Z";
    const run = await startProducer(topics.json, [
      "--count",
      "134",
      "--format",
      "json",
      "--from",
      from,
      "--step",
      "1h",
      "--seed",
      "42",
    ]).done;
    expect(run.code, run.stderr).toBe(0);

    const consumed = await consumeAll(topics.json);
    expect(countBy(consumed, (c) => c.key)).toEqual(Object.fromEntries(stationIds.map((id) => [id, 134])));
    expectKeyedAndValid(consumed);
    expect(consumed[0]?.headers.format).toBe("json");

    const simulation = createSimulation(catalog.stations, "42");
    const expected = Array.from({ length: 134 }, (_, i) =>
      simulation.readingsAt(new Date(Date.parse(from) + i * 3_600_000)),
    ).flat();
    const onTheWire = consumed.map(({ reading: { pressureHpa: _pressure, ...reading } }) => reading);
    const byId = (a: { readingId: string }, b: { readingId: string }) =>
      a.readingId.localeCompare(b.readingId);
    expect(onTheWire.sort(byId)).toEqual(expected.sort(byId));
  });

  it("exits 0 on SIGTERM in real time, with every reading it reported sent on the topic, and serves its metrics meanwhile", async () => {
    const metricsPort = await freePort();
    const { child, done } = startProducer(topics.sigterm, [
      "--interval",
      "20ms",
      "--progress-interval",
      "200ms",
      "--metrics-port",
      String(metricsPort),
    ]);
    const progressed = new Promise<void>((resolve) => {
      child.stdout?.on("data", (chunk: string) => {
        if (chunk.includes('"msg":"progress"') && !chunk.includes('"sent":0,')) resolve();
      });
    });
    await progressed;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const city of new Set(catalog.stations.map((station) => station.city))) {
      expect(metrics).toMatch(
        new RegExp(`^${PRODUCER_METRICS.metrics.messagesSent.name}\\{city="${city}"\\} [1-9]`, "m"),
      );
    }
    expect(metrics).toMatch(
      new RegExp(`^${PRODUCER_METRICS.buildInfo}\\{version="[^"]+",node_version="v[^"]+"\\} 1$`, "m"),
    );
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    child.kill("SIGTERM");
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const summary = finalSummary(run);
    expect(summary.sent).toBeGreaterThan(0);

    const consumed = await consumeAll(topics.sigterm);
    expect(consumed).toHaveLength(summary.sent);
    expect(countBy(consumed, (c) => c.key)).toEqual(summary.sentByStation);
    expectKeyedAndValid(consumed);
  });
});
