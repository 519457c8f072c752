import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createReadingDecoder,
  createReadingsChecksum,
  ReadingDecodeError,
  type ReadingsChecksum,
  type RunManifest,
  STATION_CATALOG,
} from "@weather/schema";
import {
  createKafka,
  createRegistryClient,
  createTopicsAndWait,
  type PartitionMessage,
} from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { collectTopicToEnd, deleteReadingSubjects, testSettings } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The real producer process, every knob turned, against the real stack on a topic of its own;
// what it says it sent (the manifest) is checked against what Kafka holds, classified by the
// decoder the sink uses.
const settings = testSettings;
// The catalog the producer, started with this environment, simulates.
const { catalog } = configurationOf({ groups: { catalog: STATION_CATALOG } }, process.env);
const runId = randomUUID().slice(0, 8);
const topic = `test.sensor-producer.messy.${runId}`;
const appDir = fileURLToPath(new URL("..", import.meta.url));
const folder = mkdtempSync(join(tmpdir(), "messy-"));
const kafka = createKafka(settings.kafka, { clientId: `messy-test-${runId}` });
const admin = kafka.admin();
const registry = createRegistryClient(settings.registry);
const TICKS = 2_000;

const MESSY_ARGS = [
  "--from",
  "2025-03-01T00:00:00Z",
  "--count",
  String(TICKS),
  "--step",
  "1m",
  "--seed",
  "messy-it",
  "--late-fraction",
  "0.05",
  "--lateness",
  "exponential:20m",
  "--resend-fraction",
  "0.03",
  "--resend-delay",
  "uniform:0..30m",
  "--invalid-fraction",
  "0.03",
  "--bursts-per-day",
  "6",
  "--burst-length",
  "uniform:10m..1h",
  "--clock-skew",
  "2m",
  "--batch-size",
  "500",
];

async function runProducer(manifest: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--conditions=@weather/source", "src/main.ts", ...MESSY_ARGS, "--manifest", manifest],
    {
      cwd: appDir,
      env: { ...process.env, READINGS_TOPIC: topic, LOG_LEVEL: "warn", NODE_ENV: "production" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code] = await once(child, "exit");
  expect(code, stderr).toBe(0);
}

function inOffsetOrder(messages: PartitionMessage[]): PartitionMessage[] {
  return messages.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** What the topic holds, counted the way the manifest counts what was sent. */
async function countTopic(messages: readonly PartitionMessage[]) {
  const decoder = createReadingDecoder(registry.client, { catalog });
  const firstSeen = new Set<string>();
  const byCity: Record<
    string,
    { readings: number; byStation: Record<string, number>; checksum: ReadingsChecksum }
  > = {};
  const resends: Record<string, number> = {};
  const bySinkKind: Record<string, number> = {};
  const latest = new Map<string, number>();
  let outOfOrder = 0;
  let maxOutOfOrderMs = 0;
  for (const message of messages) {
    if (message.value === null || message.value.length === 0) {
      bySinkKind["empty-value"] = (bySinkKind["empty-value"] ?? 0) + 1;
      continue;
    }
    let reading: Awaited<ReturnType<typeof decoder.decode>>;
    try {
      reading = await decoder.decode(message.value);
    } catch (error) {
      if (!(error instanceof ReadingDecodeError)) throw error;
      bySinkKind[error.kind] = (bySinkKind[error.kind] ?? 0) + 1;
      continue;
    }
    expect(message.key?.toString()).toBe(reading.stationId);
    if (firstSeen.has(reading.readingId)) {
      resends[reading.stationId] = (resends[reading.stationId] ?? 0) + 1;
      continue;
    }
    firstSeen.add(reading.readingId);
    byCity[reading.city] ??= { readings: 0, byStation: {}, checksum: createReadingsChecksum() };
    const city = byCity[reading.city] as (typeof byCity)[string];
    city.readings += 1;
    city.byStation[reading.stationId] = (city.byStation[reading.stationId] ?? 0) + 1;
    city.checksum.add(reading);
    const observed = reading.observedAt.getTime();
    const before = latest.get(reading.stationId);
    if (before !== undefined && observed < before) {
      outOfOrder += 1;
      maxOutOfOrderMs = Math.max(maxOutOfOrderMs, before - observed);
    } else latest.set(reading.stationId, observed);
  }
  return { byCity, resends, bySinkKind, outOfOrder, maxOutOfOrderMs };
}

beforeAll(async () => {
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: 6 }]);
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  await deleteReadingSubjects(settings.registry, topic);
});

describe("sensor-producer with every messy knob turned", () => {
  let first: RunManifest;
  let firstRun: PartitionMessage[];

  it("puts on Kafka exactly what its manifest says, as the sink's decoder sees it", async () => {
    const path = join(folder, "first.json");
    await runProducer(path);
    first = JSON.parse(readFileSync(path, "utf8")) as RunManifest;
    firstRun = inOffsetOrder(await collectTopicToEnd(kafka, admin, topic, 120_000));
    const counted = await countTopic(firstRun);

    expect(first.messages).toBe(firstRun.length);
    for (const [city, expected] of Object.entries(first.valid.byCity)) {
      const found = counted.byCity[city];
      expect(
        { readings: found?.readings, byStation: found?.byStation, checksum: found?.checksum.value() },
        city,
      ).toEqual(expected);
    }
    expect(Object.keys(counted.byCity).sort()).toEqual(Object.keys(first.valid.byCity).sort());
    for (const station of catalog.stations) {
      expect(first.valid.byCity[station.city]?.byStation[station.id]).toBe(TICKS);
    }
    expect(counted.resends).toEqual(first.resends.byStation);
    expect(counted.bySinkKind).toEqual(first.invalid.bySinkKind);
    expect({ outOfOrder: counted.outOfOrder, maxOutOfOrderMs: counted.maxOutOfOrderMs }).toEqual({
      outOfOrder: first.late.outOfOrder,
      maxOutOfOrderMs: first.late.maxOutOfOrderMs,
    });
    // Every knob did something in 2,000 minutes of two stations.
    expect(first.resends.sent).toBeGreaterThan(0);
    expect(Object.keys(first.invalid.bySinkKind).sort()).toEqual([
      "bad-magic-byte",
      "empty-value",
      "invalid",
      "undecodable",
      "unknown-schema",
    ]);
    expect(first.late.outOfOrder).toBeGreaterThan(0);
    expect(first.bursts.readingsHeld).toBeGreaterThan(0);
    expect(Object.values(first.clockSkewMs).some((skew) => skew !== 0)).toBe(true);
  });

  it("sends the same stream again from the same seed and knobs, byte for byte", async () => {
    const path = join(folder, "second.json");
    await runProducer(path);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(first);
    const all = inOffsetOrder(await collectTopicToEnd(kafka, admin, topic, 120_000));
    const byPartition = (messages: readonly PartitionMessage[]) => {
      const out = new Map<number, string[]>();
      for (const m of messages) {
        const list = out.get(m.partition) ?? [];
        list.push(`${m.key?.toString("hex")}:${m.value?.toString("hex") ?? "null"}`);
        out.set(m.partition, list);
      }
      return out;
    };
    const once = byPartition(firstRun);
    for (const [partition, both] of byPartition(all)) {
      const firstHalf = once.get(partition) ?? [];
      expect(both.length, `partition ${partition}`).toBe(2 * firstHalf.length);
      expect(both.slice(firstHalf.length), `partition ${partition}`).toEqual(firstHalf);
    }
  });
});
