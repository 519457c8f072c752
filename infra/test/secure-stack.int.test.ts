import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DASHBOARD_READ_GROUP_PREFIX, DEFAULT_READINGS_TOPIC, deadLetterTopicOf } from "@weather/schema";
import { LOCAL_STACK, readTopicToEnd } from "@weather/service-kit";
import kafkajs, { type Admin, Kafka, type KafkaConfig, type logCreator, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackPaths } from "../src/paths.ts";
import { kafkaPrincipals, secureKafkaConfig } from "../src/services/kafka-authz.ts";
import type { ScramUser } from "../src/services/kafka-secure.ts";
import { registryLayoutOf } from "../src/services/registry.ts";
import { httpsRequest, registryCredentialFiles } from "../src/services/registry-proxy.ts";
import { ensureStackCa, stackCaFiles } from "../src/services/stack-ca.ts";
import { secureStackFiles, stackContext, stackDown, stackUp } from "../src/stack.ts";

// `pnpm stack up --secure` in a folder and on ports of its own (Kafka from 19292, the registry's
// proxy on 18443-18444), beside whatever else runs; PostgreSQL and the registry itself are the
// ones already answering (the shared stack's). Run it under the machine-wide lock where others
// start servers too: flock /work/heavy.lock pnpm --filter @weather/infra exec vitest run test/secure-stack.int.test.ts

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const READINGS = DEFAULT_READINGS_TOPIC;
const DEAD_LETTERS = deadLetterTopicOf(READINGS);
const SINK_GROUP = "pg-sink";

function secureStack(brokers: number) {
  const root = mkdtempSync(join(tmpdir(), `secure-stack-${brokers}-`));
  const paths = stackPaths(root, stackPaths().downloads);
  const context = stackContext(
    paths,
    {
      ...process.env,
      STACK_KAFKA_BROKERS: String(brokers),
      STACK_KAFKA_PORT: String(LOCAL_STACK.secureTestKafkaPort),
      STACK_REGISTRY_PROXY_PORT: String(LOCAL_STACK.secureTestRegistryProxyPort),
    },
    (message) => console.log(`[secure stack, ${brokers} node(s)] ${message}`),
    { secure: true },
  );
  const principals = kafkaPrincipals(paths);
  /** What the clients logged about errors: kafkajs reports some refusals only there (see refusal). */
  const kafkaLog: string[] = [];
  const logCreator: logCreator =
    () =>
    ({ log }) => {
      const error = (log as { error?: unknown }).error;
      if (error instanceof Error)
        kafkaLog.push(`${(error as { type?: string }).type ?? error.name}: ${error.message}`);
    };
  return {
    paths,
    context,
    principals,
    kafkaLog,
    /**
     * A kafkajs client of `user` on the secure listeners. It retries what Kafka calls retriable (a
     * fresh cluster's group coordinator is not there at once); a refusal is not, and fails at once.
     */
    client(user: ScramUser, options: Partial<KafkaConfig> = {}): Kafka {
      return new Kafka(
        secureKafkaConfig(context.kafka, paths, user, {
          clientId: `test-${user.name}`,
          connectionTimeout: 5_000,
          retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2_000 },
          logLevel: logLevel.DEBUG,
          logCreator,
          ...options,
        }),
      );
    },
    async start(): Promise<void> {
      const started = Date.now();
      await stackUp(context);
      console.log(`secure stack of ${brokers} node(s) up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    async stop(): Promise<void> {
      await stackDown(context);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

type SecureStack = ReturnType<typeof secureStack>;

/**
 * The error `action` fails with, its causes included, as one line; fails the test if it succeeds.
 * With `kafkaLog`, the errors kafkajs logged meanwhile follow: a consumer refused its group gets
 * kafkajs's "Failed to find group coordinator", the broker's GROUP_AUTHORIZATION_FAILED only logged.
 */
async function refusal(action: () => Promise<unknown>, kafkaLog: string[] = []): Promise<string> {
  const logged = kafkaLog.length;
  try {
    await action();
  } catch (error) {
    const parts: string[] = [];
    let current: unknown = error;
    while (current instanceof Error && parts.length < 5) {
      const type = (current as { type?: string }).type;
      parts.push(`${current.name}${type ? ` ${type}` : ""}: ${current.message}`);
      // kafkajs's createTopics answers with one error per topic, deleteGroups one per group.
      const inners = [
        ...((current as { errors?: unknown[] }).errors ?? []),
        ...((current as { groups?: { error?: unknown }[] }).groups ?? []).map((group) => group.error),
      ];
      for (const inner of inners) {
        if (inner instanceof Error)
          parts.push(`${(inner as { type?: string }).type ?? inner.name}: ${inner.message}`);
      }
      current =
        (current as { cause?: unknown; originalError?: unknown }).cause ??
        (current as { originalError?: unknown }).originalError;
    }
    const refused = kafkaLog.slice(logged).filter((line) => /AUTHORIZATION/.test(line));
    return [...parts, ...new Set(refused)].join(" <- ");
  }
  throw new Error("expected a refusal, but Kafka allowed it");
}

const NOT_AUTHORIZED = /AUTHORIZATION_FAILED|not authorized/i;

async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

async function send(kafka: Kafka, topic: string, values: readonly string[]): Promise<void> {
  // An idempotent producer needs retries; a refusal is not retried (kafkajs: not retriable).
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, retry: { retries: 2 } });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  } finally {
    await producer.disconnect();
  }
}

/** Consumes `count` messages of `topic` from its start in `groupId`, committing them; their values. */
async function consume(kafka: Kafka, groupId: string, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId });
  const values: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${values.length} of ${count} messages within 30 s`)),
        30_000,
      );
      // kafkajs restarts after what Kafka calls retriable; anything else ends the read.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        clearTimeout(timer);
        reject(payload.error);
      });
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? "");
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

function portAnswers(address: string): Promise<boolean> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** What every layout must show: no PLAINTEXT, and each principal authenticated by its password only. */
function refusesStrangers(stack: () => SecureStack) {
  it("refuses PLAINTEXT: nothing answers on the PLAINTEXT ports, and SASL_SSL drops a plaintext client", async () => {
    const { context } = stack();
    for (const node of context.kafka.nodes) expect(await portAnswers(node.address), node.address).toBe(false);
    const plaintext = new Kafka({
      clientId: "plaintext",
      brokers: [context.kafka.nodes[0]?.secureAddress ?? ""],
      connectionTimeout: 3_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    expect(await refusal(() => withAdmin(plaintext, (admin) => admin.listTopics()))).toMatch(
      /connection|closed|timeout/i,
    );
  });

  it("refuses a wrong SCRAM password, and a client that does not trust the stack's CA refuses the brokers", async () => {
    const { client, principals } = stack();
    const wrong = client(principals.workers.producer, {
      retry: { retries: 0 },
      sasl: {
        mechanism: "scram-sha-512",
        username: principals.workers.producer.name,
        password: "not-the-password",
      },
    });
    expect(await refusal(() => withAdmin(wrong, (admin) => admin.listTopics()))).toMatch(
      /SASL SCRAM SHA512 authentication failed|invalid credentials/i,
    );
    const untrusting = client(principals.workers.producer, { ssl: true, retry: { retries: 0 } });
    expect(await refusal(() => withAdmin(untrusting, (admin) => admin.listTopics()))).toMatch(
      /certificate|self.signed/i,
    );
  });
}

describe("pnpm stack up --secure, one Kafka node", () => {
  const stack = secureStack(1);
  const runId = randomUUID().slice(0, 8);
  beforeAll(() => stack.start(), 300_000);
  afterAll(() => stack.stop(), 120_000);

  refusesStrangers(() => stack);

  it("gives each worker what its job needs: bootstrap creates, the producer writes, the sink reads and dead-letters, the dashboard and report read", async () => {
    const { client, principals } = stack;
    const { bootstrap, producer, sink, dashboard, report } = principals.workers;
    await withAdmin(client(bootstrap), async (admin) => {
      await admin.createTopics({
        topics: [READINGS, DEAD_LETTERS].map((topic) => ({ topic, numPartitions: 2 })),
        waitForLeaders: true,
      });
      const { topics } = await admin.fetchTopicMetadata({ topics: [READINGS, DEAD_LETTERS] });
      expect(topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    });

    await send(client(producer), READINGS, ["r1", "r2", "r3"]);

    expect((await consume(client(sink), SINK_GROUP, READINGS, 3)).sort()).toEqual(["r1", "r2", "r3"]);
    await send(client(sink), DEAD_LETTERS, ["dead letter"]);
    const sinkWatermarks = await withAdmin(client(sink), (admin) => admin.fetchTopicOffsets(READINGS));
    expect(sinkWatermarks.reduce((sum, p) => sum + Number(p.high), 0)).toBe(3);

    await withAdmin(client(dashboard), async (admin) => {
      const committed = await admin.fetchOffsets({ groupId: SINK_GROUP, topics: [READINGS] });
      const offsets = committed[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      expect(offsets, "the sink group's committed offsets, as the dashboard's lag sees them").toBe(3);
      const { groups } = await admin.describeGroups([SINK_GROUP]);
      expect(groups[0]?.groupId).toBe(SINK_GROUP);
      const group = `${DASHBOARD_READ_GROUP_PREFIX}${runId}`;
      expect(await consume(client(dashboard), group, DEAD_LETTERS, 1)).toEqual(["dead letter"]);
      await admin.deleteGroups([group]);
    });

    const returned: string[] = [];
    await withAdmin(client(report), (admin) =>
      readTopicToEnd(client(report), admin, READINGS, (_partition, messages) => {
        for (const message of messages) returned.push(message.value?.toString() ?? "");
      }),
    );
    expect(returned.sort()).toEqual(["r1", "r2", "r3"]);
  });

  it("refuses each worker the rest: the producer reading, the sink writing readings, the dashboard writing anything", async () => {
    const { client, principals, kafkaLog } = stack;
    const { bootstrap, producer, sink, dashboard, report } = principals.workers;
    const refusals = {
      "producer reads the readings (in the sink's group)": await refusal(
        () => consume(client(producer), SINK_GROUP, READINGS, 1),
        kafkaLog,
      ),
      "producer writes dead letters": await refusal(() => send(client(producer), DEAD_LETTERS, ["x"])),
      "sink writes readings": await refusal(() => send(client(sink), READINGS, ["x"])),
      "sink creates a topic": await refusal(() =>
        withAdmin(client(sink), (admin) => admin.createTopics({ topics: [{ topic: `sink-${runId}` }] })),
      ),
      "dashboard writes readings": await refusal(() => send(client(dashboard), READINGS, ["x"])),
      "dashboard writes dead letters": await refusal(() => send(client(dashboard), DEAD_LETTERS, ["x"])),
      "dashboard reads the readings": await refusal(() =>
        consume(client(dashboard), `${DASHBOARD_READ_GROUP_PREFIX}${runId}-r`, READINGS, 1),
      ),
      "dashboard deletes the sink's group": await refusal(() =>
        withAdmin(client(dashboard), (admin) => admin.deleteGroups([SINK_GROUP])),
      ),
      "bootstrap writes readings": await refusal(() => send(client(bootstrap), READINGS, ["x"])),
      "report writes readings": await refusal(() => send(client(report), READINGS, ["x"])),
    };
    for (const [what, error] of Object.entries(refusals)) {
      console.log(`refused: ${what}: ${error}`);
      expect(error, what).toMatch(NOT_AUTHORIZED);
    }
  });

  it("runs up again: each ACL kept once, and a changed password file applied to its user", async () => {
    const { client, principals } = stack;
    const { report } = principals.workers;
    const count = () =>
      withAdmin(client(principals.admin), async (admin) => {
        const { resources } = await admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        });
        return resources.reduce((sum, resource) => sum + resource.acls.length, 0);
      });
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const oldPassword = readFileSync(report.passwordFile, "utf8").trim();
    writeFileSync(report.passwordFile, `${randomUUID()}\n`, { mode: 0o600 });
    await stack.start();
    expect(await count()).toBe(before);
    expect(await withAdmin(client(report), (admin) => admin.listTopics())).toContain(READINGS);
    const stale = client(report, {
      retry: { retries: 0 },
      sasl: { mechanism: "scram-sha-512", username: report.name, password: oldPassword },
    });
    expect(await refusal(() => withAdmin(stale, (admin) => admin.listTopics()))).toMatch(
      /authentication failed/i,
    );
  });

  describe("the registry behind nginx", () => {
    const url = () => registryLayoutOf(stack.context);
    const ca = () => readFileSync(stackCaFiles(stack.paths).caCert, "utf8");
    const credentials = () => registryCredentialFiles(stack.paths);
    const secret = (file: string) => readFileSync(file, "utf8").trim();
    const basic = (user: string, password: string) => ({
      Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
    });
    const subject = `secure-stack-${runId}-value`;
    afterAll(async () => {
      const headers = { Authorization: `Bearer ${secret(credentials().tokenFile)}` };
      for (const query of ["", "?permanent=true"]) {
        await httpsRequest(`${url().tlsUrl}/subjects/${subject}${query}`, {
          ca: ca(),
          headers,
          method: "DELETE",
        }).catch(() => {});
      }
    });

    it("refuses no credentials, a wrong password and a bad token with 401, and plain HTTP", async () => {
      const subjects = `${url().tlsUrl}/subjects`;
      const { user } = credentials();
      expect((await httpsRequest(subjects, { ca: ca() })).status).toBe(401);
      expect((await httpsRequest(subjects, { ca: ca(), headers: basic(user, "wrong") })).status).toBe(401);
      expect(
        (await httpsRequest(subjects, { ca: ca(), headers: { Authorization: "Bearer wrong" } })).status,
      ).toBe(401);
      const plain = await fetch(subjects.replace("https:", "http:"));
      expect(plain.status).toBe(400);
    });

    it("accepts basic auth and the bearer token over TLS verified against the stack's CA, and passes requests on", async () => {
      const { user, passwordFile, tokenFile } = credentials();
      const schema = JSON.stringify({ schema: '{"type":"string"}' });
      const registered = await httpsRequest(`${url().tlsUrl}/subjects/${subject}/versions`, {
        ca: ca(),
        method: "POST",
        headers: {
          Authorization: `Bearer ${secret(tokenFile)}`,
          "Content-Type": "application/vnd.schemaregistry.v1+json",
        },
        body: schema,
      });
      expect(registered.status, registered.body).toBe(200);
      const listed = await httpsRequest(`${url().tlsUrl}/subjects`, {
        ca: ca(),
        headers: basic(user, secret(passwordFile)),
      });
      expect(listed.status).toBe(200);
      expect(JSON.parse(listed.body)).toContain(subject);
    });

    it("on the mutual-TLS port accepts the stack's client certificate and refuses none or another CA's (401)", async () => {
      const files = stackCaFiles(stack.paths);
      const subjects = `${url().mtlsUrl}/subjects`;
      const client = {
        cert: readFileSync(files.clientCert, "utf8"),
        key: readFileSync(files.clientKey, "utf8"),
      };
      expect((await httpsRequest(subjects, { ca: ca(), ...client })).status).toBe(200);
      expect((await httpsRequest(subjects, { ca: ca() })).status).toBe(401);
      const other = ensureStackCa("test", stackPaths(join(stack.paths.root, "other-ca")));
      const stranger = {
        cert: readFileSync(other.clientCert, "utf8"),
        key: readFileSync(other.clientKey, "utf8"),
      };
      expect((await httpsRequest(subjects, { ca: ca(), ...stranger })).status).toBe(401);
      // A client that trusts another CA refuses the proxy's certificate.
      await expect(
        httpsRequest(subjects, { ca: readFileSync(other.caCert, "utf8"), ...client }),
      ).rejects.toThrow(/certificate/i);
    });
  });

  it("keeps every secret in a 0600 file of a 0700 folder, and names each in up's output", () => {
    const files = secureStackFiles(stack.context);
    expect(files.map((f) => f.what).join("\n")).toMatch(/bearer token[\s\S]*weather-producer/);
    expect(statSync(stack.paths.secrets).mode & 0o777).toBe(0o700);
    for (const { file } of files) expect(statSync(file).mode & 0o777, file).toBe(0o600);
  });
});

describe("pnpm stack up --brokers 3 --secure", () => {
  const stack = secureStack(3);
  beforeAll(() => stack.start(), 400_000);
  afterAll(() => stack.stop(), 120_000);

  refusesStrangers(() => stack);

  it("replicates over SASL_SSL: three copies written by the producer, read by the sink; the dashboard cannot write", async () => {
    const { client, principals } = stack;
    const { bootstrap, producer, sink, dashboard } = principals.workers;
    await withAdmin(client(bootstrap), async (admin) => {
      const { brokers } = await admin.describeCluster();
      expect(brokers).toHaveLength(3);
      await admin.createTopics({
        topics: [{ topic: READINGS, numPartitions: 3, replicationFactor: 3 }],
        waitForLeaders: true,
      });
      const { topics } = await admin.fetchTopicMetadata({ topics: [READINGS] });
      expect(topics[0]?.partitions.map((p) => p.isr.length)).toEqual([3, 3, 3]);
    });
    await send(client(producer), READINGS, ["a", "b", "c", "d"]);
    expect((await consume(client(sink), SINK_GROUP, READINGS, 4)).sort()).toEqual(["a", "b", "c", "d"]);
    expect(await refusal(() => send(client(dashboard), READINGS, ["x"]))).toMatch(NOT_AUTHORIZED);
  });
});
