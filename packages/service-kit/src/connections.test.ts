import { ConfigError } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { readConnectionSettings } from "./connections.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS, DEFAULT_SCHEMA_REGISTRY_URL } from "./local-stack.ts";

describe("readConnectionSettings", () => {
  it("points at the local stack when nothing is set", () => {
    const settings = readConnectionSettings({});
    expect(settings.kafkaBrokers).toEqual([DEFAULT_KAFKA_BROKERS]);
    expect(settings.schemaRegistryUrl).toBe(DEFAULT_SCHEMA_REGISTRY_URL);
    expect(settings.databaseUrl).toBe(DEFAULT_DATABASE_URL);
  });

  it("treats an empty variable as unset", () => {
    expect(readConnectionSettings({ KAFKA_BROKERS: "  " }).kafkaBrokers).toEqual([DEFAULT_KAFKA_BROKERS]);
  });

  it("splits a comma-separated broker list and trims a registry URL's trailing slash", () => {
    const settings = readConnectionSettings({
      KAFKA_BROKERS: "k1:9092, k2:9093",
      SCHEMA_REGISTRY_URL: "https://registry.internal:8081/",
    });
    expect(settings.kafkaBrokers).toEqual(["k1:9092", "k2:9093"]);
    expect(settings.schemaRegistryUrl).toBe("https://registry.internal:8081");
  });

  it("reports every invalid variable at once, by name", () => {
    let error: unknown;
    try {
      readConnectionSettings({
        KAFKA_BROKERS: "k1:9092,no-port",
        SCHEMA_REGISTRY_URL: "ftp://x",
        DATABASE_URL: "mysql://u@h/db",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const settings = (error as ConfigError).problems.map((p) => p.setting).sort();
    expect(settings).toEqual(["DATABASE_URL", "KAFKA_BROKERS", "SCHEMA_REGISTRY_URL"]);
    expect((error as ConfigError).message).toContain('"no-port" is not host:port');
  });
});
