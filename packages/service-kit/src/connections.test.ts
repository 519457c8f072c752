import { configurationOf } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { KAFKA_CONNECTION } from "./kafka-connection.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS, DEFAULT_SCHEMA_REGISTRY_URL } from "./local-stack.ts";
import { POSTGRES_CONNECTION } from "./postgres-connection.ts";
import { REGISTRY_CONNECTION } from "./registry.ts";

const CONNECTIONS = {
  groups: { kafka: KAFKA_CONNECTION, registry: REGISTRY_CONNECTION, postgres: POSTGRES_CONNECTION },
};

const connectionsOf = (env: Record<string, string>) => configurationOf(CONNECTIONS, env);

describe("the connection groups", () => {
  it("point at the local stack when nothing is set", () => {
    const { kafka, registry, postgres } = connectionsOf({});
    expect(kafka).toEqual({ brokers: [DEFAULT_KAFKA_BROKERS], security: { tls: null, sasl: null } });
    expect(registry).toEqual({ url: DEFAULT_SCHEMA_REGISTRY_URL });
    expect(postgres).toEqual({ url: DEFAULT_DATABASE_URL, security: { sslMode: "disable" } });
  });

  it("treat an empty variable as unset", () => {
    expect(connectionsOf({ KAFKA_BROKERS: "  " }).kafka.brokers).toEqual([DEFAULT_KAFKA_BROKERS]);
  });

  it("split a comma-separated broker list and trim a registry URL's trailing slash", () => {
    const { kafka, registry } = connectionsOf({
      KAFKA_BROKERS: "k1:9092, k2:9093",
      SCHEMA_REGISTRY_URL: "https://registry.internal:8081/",
    });
    expect(kafka.brokers).toEqual(["k1:9092", "k2:9093"]);
    expect(registry.url).toBe("https://registry.internal:8081");
  });

  it("report every invalid variable at once, by name", () => {
    expect(() =>
      connectionsOf({
        KAFKA_BROKERS: "k1:9092,no-port",
        SCHEMA_REGISTRY_URL: "ftp://x",
        DATABASE_URL: "mysql://u@h/db",
      }),
    ).toThrow(
      /KAFKA_BROKERS: "k1:9092,no-port": "no-port" is not host:port.*\n.*SCHEMA_REGISTRY_URL.*\n.*DATABASE_URL/,
    );
  });
});
