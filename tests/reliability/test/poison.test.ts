import { setTimeout as sleep } from "node:timers/promises";
import { createReadingEncoder } from "@weather/schema";
import { seededRandom } from "@weather/schema/testing";
import { exitWithin, killAllWorkers, spawnWorker, suiteSeed, tail } from "@weather/test-support";
import type { IHeaders } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareIds, messagesOn, rowCounts, storedReadingIds, waitFor } from "../src/counts.ts";
import { makePoison, POISON_CATEGORIES, POISON_HEADERS, type PoisonCategory } from "../src/poison.ts";
import { report, seconds, since } from "../src/report.ts";
import { producedReadingIds, readTopic } from "../src/topic.ts";
import { verifyWorld } from "../src/verify.ts";
import { createWorld, type World } from "../src/world.ts";

const TEST = "poison";
const POISON = 1_000;
const PER_STATION = 2_500;
const VALID = 2 * PER_STATION;
const CHUNKS = 20;

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

describe("poison messages among valid readings", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld("poison");
  });
  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
  });

  it("dead-letters every poison message with its reason and stores every valid reading", async () => {
    const start = performance.now();
    const seed = suiteSeed(5_000);
    // The encoder of the topic's registered v1 schema, for poison that decodes but must not pass.
    const encoder = await createReadingEncoder(world.registry, world.topic, "avro");
    const poison = await makePoison(POISON, seededRandom(seed), encoder);

    const producer = spawnWorker(
      "sensor-producer",
      [
        ...["--from", "2024-01-01T00:00:00Z", "--count", String(PER_STATION), "--step", "1m"],
        ...["--rate", "2500", "--seed", "poison"],
      ],
      world.producerEnv(),
    );
    // Poison goes in while the producer's readings flow, so the two interleave on every partition.
    await waitFor(
      "the producer's first readings",
      async () => (await messagesOn(world.admin, world.topic)) > 0,
    );
    const injector = world.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await injector.connect();
    try {
      const size = Math.ceil(POISON / CHUNKS);
      for (let i = 0; i < POISON; i += size) {
        await injector.send({
          topic: world.topic,
          messages: [...poison.messages.slice(i, i + size)],
          acks: -1,
        });
        await sleep(75);
      }
    } finally {
      await injector.disconnect();
    }
    const producerExit = await exitWithin(producer, 120_000);
    expect(producerExit.code, tail(producer.output())).toBe(0);
    const onTopic = await messagesOn(world.admin, world.topic);

    const sink = spawnWorker("pg-sink", ["--until-caught-up"], world.sinkEnv());
    const sinkExit = await exitWithin(sink, 180_000);
    expect(sinkExit.code, tail(sink.output())).toBe(0);

    const letters = await readTopic(world, world.deadLetterTopic);
    const byCategory = new Map<string, number>();
    const wrong: string[] = [];
    const poisonIds = new Set<string>();
    for (const letter of letters) {
      const category = header(letter.headers, POISON_HEADERS.category) as PoisonCategory | undefined;
      const kind = header(letter.headers, "dlq.error.kind");
      const reason = header(letter.headers, "dlq.error.message") ?? "";
      byCategory.set(category ?? "(none)", (byCategory.get(category ?? "(none)") ?? 0) + 1);
      poisonIds.add(header(letter.headers, POISON_HEADERS.id) ?? "?");
      const expected = category === undefined ? undefined : POISON_CATEGORIES[category];
      if (
        expected === undefined ||
        kind !== expected.kind ||
        !reason.includes(expected.mentions) ||
        header(letter.headers, "dlq.source.topic") !== world.topic ||
        header(letter.headers, "dlq.source.offset") === undefined
      ) {
        wrong.push(`${category ?? "(valid?)"}: kind ${kind}, "${reason.slice(0, 100)}"`);
      }
    }

    const all = await readTopic(world, world.topic);
    const valid = all.filter((message) => header(message.headers, POISON_HEADERS.category) === undefined);
    // Partitions where valid readings sit both before and after poison: the mix the sink had to sort.
    const interleaved = new Set(
      all
        .filter((m) => header(m.headers, POISON_HEADERS.category) !== undefined)
        .map((m) => m.partition)
        .filter((partition) => {
          const offsets = all.filter((m) => m.partition === partition);
          const isPoison = offsets.map((m) => header(m.headers, POISON_HEADERS.category) !== undefined);
          return (
            isPoison.indexOf(true) > isPoison.indexOf(false) &&
            isPoison.lastIndexOf(false) > isPoison.indexOf(true)
          );
        }),
    );
    const counts = await rowCounts(world.sql);
    const { missing, unexpected } = compareIds(
      await producedReadingIds(world, valid),
      await storedReadingIds(world.sql),
    );
    const table = (Object.keys(POISON_CATEGORIES) as PoisonCategory[]).map(
      (category) =>
        `  ${category.padEnd(18)} reason ${POISON_CATEGORIES[category].kind.padEnd(15)} sent ${String(poison.sent[category]).padStart(4)}  dead-lettered ${String(byCategory.get(category) ?? 0).padStart(4)}`,
    );
    report(
      TEST,
      `seed ${seed}; topic holds ${onTopic} messages: ${VALID} valid readings from the producer and ${POISON} poison in ${CHUNKS} bursts among them ` +
        `(valid readings before and after poison on ${interleaved.size} of the ${new Set(valid.map((m) => m.partition)).size} partitions the stations' keys use)`,
      `sink --until-caught-up exited ${sinkExit.code} after ${seconds(since(start))}; dead-letter topic holds ${letters.length}:`,
      ...table,
      `dead letters with a wrong or missing reason: ${wrong.length}; distinct poison ids dead-lettered: ${poisonIds.size}`,
      `rows ${counts.rows}, distinct ${counts.distinct}; valid readings on the topic ${valid.length}, missing ${missing.length}, unexpected ${unexpected.length}`,
    );
    expect(onTopic).toBe(VALID + POISON);
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(letters).toHaveLength(POISON);
    expect(poisonIds.size).toBe(POISON);
    expect(Object.fromEntries(byCategory)).toEqual(poison.sent);
    expect(counts).toEqual({ rows: VALID, distinct: VALID });
    expect({ missing: missing.length, unexpected: unexpected.length }).toEqual({ missing: 0, unexpected: 0 });
    // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
    const verified = await verifyWorld(world);
    report(TEST, verified.summary);
    expect(verified.result.holds, verified.summary).toBe(true);
  });
});
