import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@weather/settings";
import { afterAll, describe, expect, it } from "vitest";
import { stackPaths } from "../paths.ts";
import { heapOptions, kafkaUuid, serverProperties } from "./kafka.ts";
import {
  forgetKafkaLayout,
  kafkaLayout,
  readKafkaLayout,
  recordKafkaLayout,
  replicationOf,
} from "./kafka-layout.ts";

const dir = mkdtempSync(join(tmpdir(), "kafka-layout-"));
const paths = stackPaths(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const propertiesOf = (text: string) =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );

describe("the stack's Kafka layout", () => {
  it("is one node named kafka on 9092/9093/9094 by default, as before", () => {
    const layout = readKafkaLayout({}, paths);
    expect(layout.nodes).toHaveLength(1);
    expect(layout.nodes[0]).toMatchObject({
      id: 1,
      name: "kafka",
      address: "127.0.0.1:9092",
      controllerAddress: "127.0.0.1:9093",
      secureAddress: "127.0.0.1:9094",
    });
    expect(layout.bootstrapServers).toBe("127.0.0.1:9092");
    expect(replicationOf(layout)).toEqual({ copies: 1, minInSync: 1 });
  });

  it("gives each of three nodes its own name and three ports of its own", () => {
    const layout = readKafkaLayout({}, paths, "3");
    expect(layout.source).toBe("flag");
    expect(layout.nodes.map((n) => [n.name, n.address, n.controllerAddress, n.secureAddress])).toEqual([
      ["kafka-1", "127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"],
      ["kafka-2", "127.0.0.1:9095", "127.0.0.1:9096", "127.0.0.1:9097"],
      ["kafka-3", "127.0.0.1:9098", "127.0.0.1:9099", "127.0.0.1:9100"],
    ]);
    expect(layout.bootstrapServers).toBe("127.0.0.1:9092,127.0.0.1:9095,127.0.0.1:9098");
    expect(replicationOf(layout)).toEqual({ copies: 3, minInSync: 2 });
  });

  it("reads STACK_KAFKA_BROKERS and STACK_KAFKA_PORT, the flag winning over the variable", () => {
    const env = { STACK_KAFKA_BROKERS: "3", STACK_KAFKA_PORT: "19092", STACK_KAFKA_SECURE: "0" };
    const layout = readKafkaLayout(env, paths);
    expect(layout.source).toBe("environment");
    expect(layout.secure).toBe(false);
    expect(layout.bootstrapServers).toBe("127.0.0.1:19092,127.0.0.1:19095,127.0.0.1:19098");
    expect(readKafkaLayout(env, paths, "1").nodes.map((n) => n.name)).toEqual(["kafka"]);
  });

  it("reports every bad value at once, naming the setting", () => {
    let error: unknown;
    try {
      readKafkaLayout({ STACK_KAFKA_BROKERS: "three", STACK_KAFKA_PORT: "80" }, paths);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting)).toEqual([
      "STACK_KAFKA_BROKERS",
      "STACK_KAFKA_PORT",
    ]);
    expect(() => readKafkaLayout({}, paths, "9")).toThrow(/--brokers: "9" is not a whole number from 1 to 5/);
  });

  it("remembers the layout it started, so status, logs and down need no flag", () => {
    recordKafkaLayout(paths, kafkaLayout(3, 19092));
    const recorded = readKafkaLayout({}, paths);
    expect(recorded.source).toBe("recorded");
    expect(recorded.bootstrapServers).toBe("127.0.0.1:19092,127.0.0.1:19095,127.0.0.1:19098");
    forgetKafkaLayout(paths);
    expect(readKafkaLayout({}, paths).source).toBe("default");
  });
});

describe("a cluster node's server.properties", () => {
  const layout = kafkaLayout(3, 19092);
  const node = layout.nodes[1];
  const properties = propertiesOf(
    serverProperties({ layout, ...(node ? { node } : {}), logDir: "/data/kafka-2" }),
  );

  it("makes every node broker and controller, all three voters of one dynamic quorum", () => {
    expect(properties["process.roles"]).toBe("broker,controller");
    expect(properties["node.id"]).toBe("2");
    expect(properties["controller.quorum.bootstrap.servers"]).toBe(
      "127.0.0.1:19093,127.0.0.1:19096,127.0.0.1:19099",
    );
    expect(properties["controller.quorum.voters"]).toBeUndefined();
    expect(properties.listeners).toBe("PLAINTEXT://127.0.0.1:19095,CONTROLLER://127.0.0.1:19096");
    expect(properties["advertised.listeners"]).toBe("PLAINTEXT://127.0.0.1:19095");
    expect(properties["log.dirs"]).toBe("/data/kafka-2");
  });

  it("keeps three copies of the internal topics and of topics created without a factor, two needed for a write", () => {
    expect(properties).toMatchObject({
      "default.replication.factor": "3",
      "min.insync.replicas": "2",
      "offsets.topic.replication.factor": "3",
      "transaction.state.log.replication.factor": "3",
      "transaction.state.log.min.isr": "2",
      "share.coordinator.state.topic.replication.factor": "3",
      "share.coordinator.state.topic.min.isr": "2",
      "auto.create.topics.enable": "false",
    });
  });

  it("gives the nodes of a cluster a smaller heap than the lone broker", () => {
    expect(heapOptions(layout)).toEqual(["-Xms192m", "-Xmx384m"]);
    expect(heapOptions(kafkaLayout())).toEqual(["-Xms256m", "-Xmx512m"]);
  });

  it("formats with ids in Kafka's own form: 22 URL-safe base64 characters", () => {
    const ids = Array.from({ length: 50 }, () => kafkaUuid());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(50);
  });
});
