import { kafkaAclEntries } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { DASHBOARD_READ_GROUP_PREFIX, KAFKA_PRINCIPALS, workerKafkaAcls } from "./kafka-acls.ts";

const acls = workerKafkaAcls();
const of = (principal: string) => acls.filter((acl) => acl.principal === principal);
const operationsOf = (principal: string) => new Set(of(principal).flatMap((acl) => acl.operations));

describe("each worker's Kafka ACLs", () => {
  it("let only bootstrap create, and nothing touch the cluster itself", () => {
    const creators = acls.filter((acl) => acl.operations.includes("Create")).map((acl) => acl.principal);
    expect(new Set(creators)).toEqual(new Set([KAFKA_PRINCIPALS.bootstrap]));
    expect(acls.filter((acl) => acl.resource === "cluster")).toEqual([]);
  });

  it("let the producer write the readings topic and read nothing", () => {
    expect(of(KAFKA_PRINCIPALS.producer).map((acl) => `${acl.resource}:${acl.name}`)).toEqual([
      "topic:weather.readings",
    ]);
    expect(operationsOf(KAFKA_PRINCIPALS.producer)).toEqual(new Set(["Write", "Describe"]));
  });

  it("let the sink read the readings in its group and write only dead letters", () => {
    const writes = of(KAFKA_PRINCIPALS.sink).filter((acl) => acl.operations.includes("Write"));
    expect(writes.map((acl) => acl.name)).toEqual(["weather.readings.dlq"]);
    expect(of(KAFKA_PRINCIPALS.sink).find((acl) => acl.resource === "group")?.name).toBe("pg-sink");
  });

  it("let the dashboard and report write nothing, and delete only their own throwaway groups", () => {
    for (const reader of [KAFKA_PRINCIPALS.dashboard, KAFKA_PRINCIPALS.report]) {
      expect(operationsOf(reader).has("Write"), reader).toBe(false);
      for (const acl of of(reader).filter((rule) => rule.operations.includes("Delete"))) {
        expect(acl.pattern, reader).toBe("prefixed");
      }
    }
    expect(of(KAFKA_PRINCIPALS.dashboard).some((acl) => acl.name === DASHBOARD_READ_GROUP_PREFIX)).toBe(true);
  });

  it("follow READINGS_TOPIC, SINK_GROUP_ID and other principal names", () => {
    const custom = workerKafkaAcls({
      readingsTopic: "site.readings",
      sinkGroupId: "site-sink",
      principals: { sink: "svc-sink" },
    });
    const names = new Set(custom.map((acl) => acl.name));
    expect(names).toContain("site.readings.dlq");
    expect(names).toContain("site-sink");
    expect(names).not.toContain("weather.readings");
    expect(custom.some((acl) => acl.principal === "svc-sink")).toBe(true);
  });

  it("become one ALLOW entry per operation for kafkajs's createAcls", () => {
    const entries = kafkaAclEntries(acls);
    expect(entries).toHaveLength(acls.reduce((sum, acl) => sum + acl.operations.length, 0));
    expect(entries.every((entry) => entry.principal.startsWith("User:") && entry.host === "*")).toBe(true);
  });
});
