import { randomUUID } from "node:crypto";
import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { createKafka, createLogger, createTopicsAndWait } from "@weather/service-kit";
import { deleteTopicsIfPresent, testSettings } from "@weather/test-support";
import type { Admin, Consumer, Kafka, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeadLetterWindow } from "../src/dead-letters.ts";
import { describeKafkaError, KafkaConnection } from "../src/kafka-client.ts";
import { queryConsumerLag } from "../src/kafka-lag.ts";

const settings = testSettings.kafka;
const runId = randomUUID().slice(0, 8);
const topic = `dashboard-test.${runId}`;
const deadLetterTopic = `${topic}.dlq`;
const groupId = `dashboard-test-${runId}`;
const logger = createLogger("dashboard-test", { level: "silent" });

const letter = (kind: string, minutesAgo: number, sourceOffset: number) => ({
  key: "CYWG",
  value: Buffer.from("not a reading"),
  timestamp: String(Date.now() - minutesAgo * 60_000),
  headers: {
    [DEAD_LETTER_HEADERS.errorKind]: kind,
    [DEAD_LETTER_HEADERS.errorClass]: "ReadingDecodeError",
    [DEAD_LETTER_HEADERS.errorMessage]: `${kind} at offset ${sourceOffset}`,
    [DEAD_LETTER_HEADERS.sourceTopic]: topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: "0",
    [DEAD_LETTER_HEADERS.sourceOffset]: String(sourceOffset),
  },
});

describe("the dashboard's Kafka sources, against the real broker", () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let member: Consumer | undefined;

  beforeAll(async () => {
    kafka = createKafka(settings, { clientId: "dashboard-test" });
    admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [
      { topic, numPartitions: 3 },
      { topic: deadLetterTopic, numPartitions: 2 },
    ]);
    // Idempotent: a send retried after a lost acknowledgement must not change the watermarks counted below.
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await member?.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await deleteTopicsIfPresent(admin, [topic, deadLetterTopic]).catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin?.disconnect();
  });

  it("computes each partition's lag from the high watermark and the group's committed offset", async () => {
    await producer.send({
      topic,
      messages: [0, 0, 0, 0, 1, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })),
    });
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "1" }] });
    const lag = await queryConsumerLag(admin, topic, groupId);
    expect(lag.partitions).toEqual([
      { partition: 0, high: 4, low: 0, committed: 1, lag: 3 },
      { partition: 1, high: 3, low: 0, committed: null, lag: 3 },
      { partition: 2, high: 0, low: 0, committed: null, lag: 0 },
    ]);
    expect(lag.totalLag).toBe(6);
    expect(lag.members).toEqual([]);
    expect(lag.groupState).toBe("Empty");
  });

  it("lists the group's members with the partitions each owns", async () => {
    const consumerKafka = createKafka(settings, { clientId: "the-member" });
    member = consumerKafka.consumer({ groupId });
    await member.connect();
    await member.subscribe({ topic });
    const joined = new Promise<void>((resolve) => member?.on(member.events.GROUP_JOIN, () => resolve()));
    await member.run({ autoCommit: false, eachMessage: async () => {} });
    await joined;
    const lag = await queryConsumerLag(admin, topic, groupId);
    expect(lag.groupState).toBe("Stable");
    expect(lag.members).toEqual([
      {
        memberId: expect.stringMatching(/^the-member-/),
        clientId: "the-member",
        host: expect.any(String),
        partitions: [0, 1, 2],
      },
    ]);
    await member.disconnect();
    member = undefined;
  });

  it("reads the dead letters of the last hour with their reasons, then only what is new", async () => {
    await producer.send({
      topic: deadLetterTopic,
      messages: [
        { ...letter("undecodable", 120, 1), partition: 0 },
        { ...letter("bad-magic-byte", 30, 2), partition: 0 },
        { ...letter("bad-magic-byte", 20, 3), partition: 1 },
        { ...letter("invalid-reading", 10, 4), partition: 1 },
      ],
    });
    const window = new DeadLetterWindow(kafka, deadLetterTopic, 30_000);
    const first = await window.refresh(admin, new Date());
    expect(first.total).toBe(3);
    expect(first.byReason).toEqual([
      { reason: "bad-magic-byte", count: 2 },
      { reason: "invalid-reading", count: 1 },
    ]);
    expect(first.latest.map((l) => [l.reason, l.source])).toEqual([
      ["invalid-reading", `${topic}[0]@4`],
      ["bad-magic-byte", `${topic}[0]@3`],
      ["bad-magic-byte", `${topic}[0]@2`],
    ]);

    await producer.send({
      topic: deadLetterTopic,
      messages: [{ ...letter("no-table", 0, 5), partition: 0 }],
    });
    const second = await window.refresh(admin, new Date());
    expect(second.total).toBe(4);
    expect(second.latest[0]).toMatchObject({
      reason: "no-table",
      message: "no-table at offset 5",
      partition: 0,
    });

    // An hour later the window has moved past all of them, without reading anything again.
    const later = await window.refresh(admin, new Date(Date.now() + 61 * 60_000));
    expect(later.total).toBe(0);
  });

  it("says which broker it cannot reach, and recovers through a new connection", async () => {
    const away = new KafkaConnection({ brokers: ["127.0.0.1:1"], security: settings.security }, logger);
    try {
      const error = await away.withAdmin((a) => a.fetchTopicOffsets(topic)).catch((e: unknown) => e);
      expect(describeKafkaError(error, ["127.0.0.1:1"], topic)).toMatch(
        /^cannot reach Kafka at 127\.0\.0\.1:1 \(.*\); is Kafka up at KAFKA_BROKERS\? locally: pnpm stack up$/,
      );
    } finally {
      await away.close();
    }
    const here = new KafkaConnection(settings, logger);
    try {
      const error = await here
        .withAdmin((a) => a.fetchTopicOffsets(`${topic}.absent`))
        .catch((e: unknown) => e);
      expect(describeKafkaError(error, settings.brokers, `${topic}.absent`)).toMatch(
        /^topic .*\.absent does not exist on .*; bootstrap creates the product's topics/,
      );
      // The failed call dropped the admin; the next one opens a fresh one and succeeds.
      const offsets = await here.withAdmin((a) => a.fetchTopicOffsets(topic));
      expect(offsets).toHaveLength(3);
    } finally {
      await here.close();
    }
  });
});
