import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { createRegistryClient, fetchRegistry, REGISTRY_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { afterAll, describe, expect, it } from "vitest";
import {
  createReadingDecoder,
  createReadingEncoder,
  jsonValueSubjectOf,
  ReadingDecodeError,
  readingAvroSchema,
  readingJsonSchema,
  registerReadingSchemas,
  valueSubjectOf,
} from "../src/index.ts";
import { sampleReading } from "./sample-reading.ts";

// Against the real registry (Apicurio's Confluent-compatible API by default). Every run uses its
// own topic name, so parallel runs never share a subject; afterAll removes what this run created.
const connection = configurationOf({ groups: { registry: REGISTRY_CONNECTION } }, process.env).registry;
const runId = randomUUID().slice(0, 8);
const topic = `schema-test-${runId}.readings`;
const subjects = [valueSubjectOf(topic), jsonValueSubjectOf(topic)];
const registry = createRegistryClient(connection);

async function registryCall(method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetchRegistry(connection, path, { method });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

afterAll(async () => {
  for (const subject of subjects) {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    await registryCall("DELETE", path).catch(() => {});
    await registryCall("DELETE", `${path}?permanent=true`).catch(() => {});
    await registryCall("DELETE", `/config/${encodeURIComponent(subject)}`).catch(() => {});
  }
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

// The tests build on each other in order: register v1, write v1, evolve to v2, read both.
describe("reading schemas in the real registry", () => {
  it("registers v1 in Avro and JSON under separate subjects, with BACKWARD compatibility", async () => {
    const first = await registerReadingSchemas(registry, topic);
    expect(first).toEqual([
      { subject: `${topic}-value`, format: "avro", version: 1, id: expect.any(Number), created: true },
      { subject: `${topic}-json-value`, format: "json", version: 1, id: expect.any(Number), created: true },
    ]);
    for (const subject of subjects) {
      expect(await registryCall("GET", `/config/${encodeURIComponent(subject)}`)).toEqual({
        status: 200,
        body: { compatibilityLevel: "BACKWARD" },
      });
    }
  });

  it("gives several encoders starting at once on a fresh subject one schema id", async () => {
    const freshTopic = `schema-test-${runId}.concurrent`;
    const subject = valueSubjectOf(freshTopic);
    subjects.push(subject, jsonValueSubjectOf(freshTopic));
    // Each with its own client, as separate producer processes would be.
    const encoders = await Promise.all(
      Array.from({ length: 6 }, () =>
        createReadingEncoder(createRegistryClient(connection), freshTopic, "avro"),
      ),
    );
    expect(new Set(encoders.map((encoder) => encoder.schemaId)).size).toBe(1);
    const versions = await registryCall("GET", `/subjects/${encodeURIComponent(subject)}/versions`);
    expect(versions.body).toEqual([1]);
    expect(await registryCall("GET", `/config/${encodeURIComponent(subject)}`)).toEqual({
      status: 200,
      body: { compatibilityLevel: "BACKWARD" },
    });
  });

  it("is idempotent: a second registration finds the same ids and creates nothing", async () => {
    const again = await registerReadingSchemas(registry, topic);
    const versions = await registryCall("GET", `/subjects/${encodeURIComponent(subjects[0] ?? "")}/versions`);
    expect(again.map((r) => r.created)).toEqual([false, false]);
    expect(again.map((r) => r.id)).toEqual([
      await registry.client.getLatestSchemaId(subjects[0] ?? ""),
      await registry.client.getLatestSchemaId(subjects[1] ?? ""),
    ]);
    expect(versions.body).toEqual([1]);
  });

  it.each(["avro", "json"] as const)(
    "round-trips a reading as %s in Confluent wire format",
    async (format) => {
      const encoder = await createReadingEncoder(registry, topic, format);
      const bytes = await encoder.encode(sampleReading());
      expect(bytes[0]).toBe(0);
      expect(bytes.readInt32BE(1)).toBe(encoder.schemaId);
      // A fresh client, as a sink in another process has: it must fetch the writer schema by id.
      const decoder = createReadingDecoder(createRegistryClient(connection).client);
      expect(await decoder.decode(bytes)).toEqual({ ...sampleReading(), pressureHpa: null });
    },
  );

  it.each(["avro", "json"] as const)(
    "accepts v2 (optional pressureHpa, default null) after v1 as %s",
    async (format) => {
      const v1 = await createReadingEncoder(registry, topic, format, { version: 1 });
      const v2 = await createReadingEncoder(registry, topic, format, { version: 2 });
      expect(v2.schemaId).not.toBe(v1.schemaId);

      const decoder = createReadingDecoder(createRegistryClient(connection).client);
      const withPressure = sampleReading({ readingId: randomUUID(), pressureHpa: 1008.4 });
      expect(await decoder.decode(await v2.encode(withPressure))).toEqual(withPressure);
      // Old producers keep writing v1 on the same topic; the same decoder reads those too.
      expect(await decoder.decode(await v1.encode(sampleReading()))).toEqual({
        ...sampleReading(),
        pressureHpa: null,
      });
    },
  );

  it("rejects an Avro field added without a default (409)", async () => {
    const v1 = readingAvroSchema(1);
    const breaking = {
      ...v1,
      fields: [...v1.fields, { name: "dewPointC", type: "double", doc: "Dew point" }],
    };
    const error = await rejection(
      registry.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(breaking) },
        { subject: subjects[0] ?? "" },
      ),
    );
    expect(error).toMatchObject({ status: 409 });
  });

  it("rejects an Avro type change (409)", async () => {
    const v2 = readingAvroSchema(2);
    const breaking = {
      ...v2,
      fields: v2.fields.map((f) => (f.name === "temperatureC" ? { ...f, type: "string" } : f)),
    };
    const error = await rejection(
      registry.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(breaking) },
        { subject: subjects[0] ?? "" },
      ),
    );
    expect(error).toMatchObject({ status: 409 });
  });

  it("rejects a JSON Schema with a new required property (409)", async () => {
    const v1 = readingJsonSchema(1);
    const breaking = {
      ...v1,
      required: [...v1.required, "dewPointC"],
      properties: { ...v1.properties, dewPointC: { type: "number", description: "Dew point" } },
    };
    const error = await rejection(
      registry.client.register(
        { type: SchemaType.JSON, schema: JSON.stringify(breaking) },
        { subject: subjects[1] ?? "" },
      ),
    );
    expect(error).toMatchObject({ status: 409 });
  });

  it("classifies an id the registry does not have as unknown-schema", async () => {
    const decoder = createReadingDecoder(registry.client);
    const bytes = Buffer.concat([
      Buffer.from([0]),
      Buffer.from([0x7f, 0xff, 0xff, 0xf0]),
      Buffer.from("payload"),
    ]);
    const error = await rejection(decoder.decode(bytes));
    expect(error).toBeInstanceOf(ReadingDecodeError);
    expect(error).toMatchObject({ kind: "unknown-schema", schemaId: 0x7ffffff0 });
  });

  it("classifies a wrong magic byte as bad-magic-byte without asking the registry", async () => {
    const encoder = await createReadingEncoder(registry, topic, "avro");
    const bytes = Buffer.from(await encoder.encode(sampleReading()));
    bytes[0] = 1;
    const error = await rejection(createReadingDecoder(registry.client).decode(bytes));
    expect(error).toMatchObject({ kind: "bad-magic-byte" });
  });

  it("keeps decoding known schema ids after the registry goes away", async () => {
    const proxy = await startProxy(connection.url);
    const decoder = createReadingDecoder(new SchemaRegistry({ host: proxy.url, retry: { retries: 0 } }));
    const avro = await createReadingEncoder(registry, topic, "avro", { version: 2 });
    const json = await createReadingEncoder(registry, topic, "json", { version: 2 });
    const reading = sampleReading({ pressureHpa: 990 });
    const messages = [await avro.encode(reading), await json.encode(reading)];
    for (const bytes of messages) expect(await decoder.decode(bytes)).toEqual(reading);

    await proxy.close();
    for (const bytes of messages) expect(await decoder.decode(bytes)).toEqual(reading);
    // A schema it never saw now needs the registry: that is a retryable failure, not a dead letter.
    const unseen = await createReadingEncoder(registry, topic, "avro", { version: 1 });
    const error = await rejection(decoder.decode(await unseen.encode(reading)));
    expect(error).not.toBeInstanceOf(ReadingDecodeError);
    expect(String(error)).toMatch(/cannot fetch schema \d+ from the schema registry/);
  });
});

/** A pass-through HTTP proxy to the registry that the test can take down. */
async function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const targetUrl = new URL(target);
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const upstream = await fetch(`${targetUrl.origin}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers: { "content-type": req.headers["content-type"] ?? "application/json" },
      ...(body === undefined ? {} : { body }),
    });
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/json",
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
