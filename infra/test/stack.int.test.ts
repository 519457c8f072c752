import { randomUUID } from "node:crypto";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { createKafka, createTopicsAndWait, readConnectionSettings } from "@weather/service-kit";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";

// These talk to whatever KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL name: by default the
// stack `pnpm stack up` starts. scripts/test-all.sh brings it up before running them.
const settings = readConnectionSettings(process.env);
const runId = randomUUID().slice(0, 8);
const connection = { brokers: settings.kafkaBrokers, security: settings.kafkaSecurity };
const kafka = createKafka(connection, { clientId: `smoke-${runId}` });

describe("the local stack is real", () => {
  const admin = kafka.admin();
  const topic = `smoke-${runId}`;

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it("creates a topic with the kafkajs admin client and lists it", async () => {
    await admin.connect();
    const created = await createTopicsAndWait(admin, [{ topic, numPartitions: 2 }]);
    expect(created).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it("refuses to create topics implicitly, so a mistyped topic name fails loudly", async () => {
    // Its own quiet client: the broker's refusals are the point here, not noise for the log.
    const quiet = createKafka(connection, { clientId: `smoke-${runId}-quiet` });
    const producer = quiet.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: `no-such-topic-${runId}`, messages: [{ value: "x" }], timeout: 2_000 }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it("produces a message with kafkajs and consumes the same message back", async () => {
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: `smoke-${runId}` });
    const value = `hello from ${runId}`;
    await producer.connect();
    await producer.send({ topic, messages: [{ key: "k", value }] });
    await producer.disconnect();

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message consumed within 30 s")), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value?.toString() ?? "");
        },
      });
    });
    await consumer.disconnect();
    expect(received).toBe(value);
  });
});

describe("the schema registry speaks the Confluent API", () => {
  const registry = new SchemaRegistry({ host: settings.schemaRegistryUrl });
  const subject = `smoke-${runId}-value`;

  afterAll(async () => {
    await fetch(`${settings.schemaRegistryUrl}/subjects/${subject}`, { method: "DELETE" }).catch(() => {});
  });

  it("registers an Avro schema and round-trips a record through it", async () => {
    const schema = {
      type: "record",
      name: "SmokeReading",
      namespace: "smoke",
      fields: [
        { name: "station", type: "string" },
        { name: "celsius", type: "double" },
      ],
    };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(id).toBeGreaterThan(0);

    const record = { station: "winnipeg", celsius: -21.5 };
    const encoded = await registry.encode(id, record);
    // Confluent wire format: magic byte 0, then the schema id, big-endian.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual(record);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
  });
});

describe("PostgreSQL answers queries", () => {
  it("runs a query with postgres.js", async () => {
    const sql = postgres(settings.databaseUrl.replace(/\/[^/?]*(\?|$)/, "/postgres$1"), { max: 1 });
    try {
      const [row] = await sql<
        { answer: number; version: string }[]
      >`select 6 * 7 as answer, version() as version`;
      expect(row?.answer).toBe(42);
      expect(row?.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await sql.end();
    }
  });
});
