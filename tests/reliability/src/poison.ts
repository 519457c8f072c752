import type { ReadingEncoder, WeatherReading } from "@weather/schema";
import { seededUuid, shuffled } from "@weather/test-support";
import type { Message } from "kafkajs";

/**
 * The kinds of bad message a topic can carry, and the dead-letter reason (the sink's
 * dlq.error.kind header) each must come back with. Two categories share "invalid": decoding
 * succeeded, validation refused; the dead letter's message says which field.
 */
export const POISON_CATEGORIES = {
  "bad-magic-byte": { kind: "bad-magic-byte", mentions: "not Confluent wire format" },
  "short-value": { kind: "bad-magic-byte", mentions: "only" },
  "unknown-schema-id": { kind: "unknown-schema", mentions: "which the registry does not have" },
  "truncated-payload": { kind: "undecodable", mentions: "truncated buffer" },
  "trailing-bytes": { kind: "undecodable", mentions: "trailing data" },
  "out-of-range": { kind: "invalid", mentions: "expected a finite number within" },
  "unknown-station": { kind: "invalid", mentions: "expected a station of the catalog" },
  "empty-value": { kind: "empty-value", mentions: "no value" },
  tombstone: { kind: "empty-value", mentions: "no value" },
} as const;

export type PoisonCategory = keyof typeof POISON_CATEGORIES;

/** Headers of the original message, which the dead letter keeps: how the test finds its own. */
export const POISON_HEADERS = {
  category: "reliability.poison.category",
  id: "reliability.poison.id",
} as const;

function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return header;
}

function randomBytes(random: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

function plausibleReading(random: () => number, index: number): WeatherReading {
  return {
    readingId: seededUuid(random),
    stationId: "CYWG",
    city: "winnipeg",
    observedAt: new Date(Date.UTC(2024, 0, 1) + index * 60_000),
    temperatureC: -10,
    windSpeedKmh: 12,
    humidityPct: 70,
  };
}

/** The value of one poison message of `category`; valid-looking ones go through the real encoder. */
async function poisonValue(
  category: PoisonCategory,
  index: number,
  random: () => number,
  encoder: ReadingEncoder,
): Promise<Buffer | null> {
  const reading = plausibleReading(random, index);
  switch (category) {
    case "bad-magic-byte":
      return Buffer.concat([
        Buffer.from([1 + Math.floor(random() * 255)]),
        randomBytes(random, 4 + (index % 40)),
      ]);
    case "short-value":
      return randomBytes(random, 1 + (index % 4));
    case "unknown-schema-id":
      // Far above any id a registry of this size hands out.
      return Buffer.concat([wireHeader(1_900_000_000 + index), randomBytes(random, 20)]);
    case "truncated-payload": {
      const bytes = await encoder.encode(reading);
      return bytes.subarray(0, 5 + Math.floor(random() * (bytes.length - 6)));
    }
    case "trailing-bytes":
      return Buffer.concat([await encoder.encode(reading), randomBytes(random, 1 + (index % 8))]);
    case "out-of-range": {
      const field = (["temperatureC", "windSpeedKmh", "humidityPct"] as const)[index % 3] ?? "temperatureC";
      return encoder.encode({ ...reading, [field]: 1_000 + index });
    }
    case "unknown-station":
      return encoder.encode({ ...reading, stationId: `ZZ${index}`, city: "atlantis" });
    case "empty-value":
      return Buffer.alloc(0);
    case "tombstone":
      return null;
  }
}

export interface PoisonBatch {
  readonly messages: readonly Message[];
  /** How many messages of each category were made. */
  readonly sent: Readonly<Record<PoisonCategory, number>>;
}

/** `count` poison messages, the categories as even as can be, in a seeded order. */
export async function makePoison(
  count: number,
  random: () => number,
  encoder: ReadingEncoder,
): Promise<PoisonBatch> {
  const categories = Object.keys(POISON_CATEGORIES) as PoisonCategory[];
  const order = shuffled(
    Array.from({ length: count }, (_, i) => categories[i % categories.length] as PoisonCategory),
    random,
  );
  const sent = Object.fromEntries(categories.map((c) => [c, 0])) as Record<PoisonCategory, number>;
  const messages: Message[] = [];
  for (const [index, category] of order.entries()) {
    sent[category]++;
    messages.push({
      key: `poison-${index}`,
      value: await poisonValue(category, index, random, encoder),
      headers: { [POISON_HEADERS.category]: category, [POISON_HEADERS.id]: String(index) },
    });
  }
  return { messages, sent };
}
