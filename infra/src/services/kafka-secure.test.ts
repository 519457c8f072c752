import { describe, expect, it } from "vitest";
import { stackPaths } from "../paths.ts";
import { serverProperties } from "./kafka.ts";
import { kafkaLayout } from "./kafka-layout.ts";
import { kafkaTlsFiles, secureKafkaClientEnv, secureListenerEnabled } from "./kafka-secure.ts";

describe("the broker's SASL_SSL listener", () => {
  const files = { ...kafkaTlsFiles(stackPaths("/tmp/stack")), keystorePassword: "changeit" };
  const properties = serverProperties({ logDir: "/tmp/log", secure: files });

  it("adds SASL_SSL on 9094 next to PLAINTEXT, which stays the inter-broker listener", () => {
    expect(properties).toContain(
      "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094",
    );
    expect(properties).toContain("advertised.listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9094");
    expect(properties).toContain("inter.broker.listener.name=PLAINTEXT");
    expect(properties).toContain("listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512");
    expect(properties).toContain(
      "listener.name.sasl_ssl.ssl.keystore.location=/tmp/stack/data/kafka/tls/broker.p12",
    );
  });

  it("is left out without TLS files, as before", () => {
    expect(serverProperties({ logDir: "/tmp/log" })).not.toContain("SASL_SSL");
  });

  it("tells clients where the CA and the password file are", () => {
    expect(secureKafkaClientEnv(stackPaths("/tmp/stack"))).toEqual({
      KAFKA_BROKERS: "127.0.0.1:9094",
      KAFKA_SSL: "true",
      KAFKA_SSL_CA_FILE: "/tmp/stack/data/kafka/tls/ca.pem",
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "weather",
      KAFKA_SASL_PASSWORD_FILE: "/tmp/stack/data/kafka/tls/weather.password",
    });
  });

  it("gives each node of a cluster its own SASL_SSL port, and clients every node's", () => {
    const layout = kafkaLayout(3);
    const node = layout.nodes[2];
    expect(
      serverProperties({ layout, ...(node ? { node } : {}), logDir: "/tmp/log", secure: files }),
    ).toContain("listeners=PLAINTEXT://127.0.0.1:9098,CONTROLLER://127.0.0.1:9099,SASL_SSL://127.0.0.1:9100");
    const env = secureKafkaClientEnv(
      stackPaths("/tmp/stack"),
      layout.nodes.map((n) => n.secureAddress),
    );
    expect(env.KAFKA_BROKERS).toBe("127.0.0.1:9094,127.0.0.1:9097,127.0.0.1:9100");
  });

  it("can be turned off with STACK_KAFKA_SECURE=0", () => {
    expect(secureListenerEnabled({})).toBe(true);
    expect(secureListenerEnabled({ STACK_KAFKA_SECURE: "0" })).toBe(false);
  });
});
