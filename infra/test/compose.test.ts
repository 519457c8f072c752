import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT, stackPaths } from "../src/paths.ts";
import { serverProperties } from "../src/services/kafka.ts";
import { registrySettings } from "../src/services/registry.ts";
import { APICURIO_VERSION, kafkaVersion } from "../src/versions.ts";

// No Docker engine runs here, so docker-compose.yml is kept honest by reading it against the
// local stack: same versions, same host ports, same settings.
interface ComposeService {
  image: string;
  environment: Record<string, string | number>;
  ports: string[];
  healthcheck?: unknown;
}
const compose = parse(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, ComposeService>;
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

describe("docker-compose.yml matches the local stack", () => {
  it("runs the Kafka version the pom fetches", () => {
    expect(service("kafka").image).toBe(`apache/kafka:${kafkaVersion()}`);
  });

  it("runs the Apicurio Registry version the stack fetches", () => {
    expect(service("registry").image).toBe(`apicurio/apicurio-registry:${APICURIO_VERSION}`);
  });

  it("publishes every service on the local stack's host ports", () => {
    expect(service("kafka").ports).toContain(`127.0.0.1:${LOCAL_STACK.kafkaPort}:9092`);
    expect(service("registry").ports).toContain(`127.0.0.1:${LOCAL_STACK.registryPort}:8080`);
    expect(service("postgres").ports).toContain(`127.0.0.1:${LOCAL_STACK.postgresPort}:5432`);
  });

  it("gives every service a healthcheck", () => {
    for (const name of ["kafka", "registry", "postgres"]) expect(service(name).healthcheck).toBeDefined();
  });

  it("configures the broker as the stack does", () => {
    const local = Object.fromEntries(
      serverProperties("/tmp/x")
        .split("\n")
        .filter((line) => line.includes("="))
        .map((line) => line.split("=") as [string, string]),
    );
    const env = service("kafka").environment;
    const asEnv = (key: string) => `KAFKA_${key.toUpperCase().replaceAll(".", "_")}`;
    for (const key of [
      "auto.create.topics.enable",
      "num.partitions",
      "offsets.topic.replication.factor",
      "transaction.state.log.min.isr",
      "group.initial.rebalance.delay.ms",
      "process.roles",
    ]) {
      expect(String(env[asEnv(key)]), key).toBe(local[key]);
    }
  });

  it("configures the registry as the stack does, apart from addresses", () => {
    const local = registrySettings({
      paths: stackPaths("/tmp/x"),
      postgresUrl: new URL("postgres://postgres@127.0.0.1:5432/weather"),
      log: () => {},
    });
    const env = service("registry").environment;
    for (const [key, value] of Object.entries(local)) {
      if (key.startsWith("quarkus.") || key === "apicurio.datasource.url") continue;
      expect(String(env[key.toUpperCase().replaceAll(/[.-]/g, "_")]), key).toBe(value);
    }
  });
});
