import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stackPaths } from "../paths.ts";
import { sideClusterContext } from "../side-cluster.ts";
import { serverProperties } from "./kafka.ts";
import { addScramArguments } from "./kafka-authz.ts";
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
      "listener.name.sasl_ssl.ssl.keystore.location=/tmp/stack/secrets/server.p12",
    );
  });

  it("is left out without TLS files, as before", () => {
    expect(serverProperties({ logDir: "/tmp/log" })).not.toContain("SASL_SSL");
  });

  it("tells clients where the CA and the password file are", () => {
    expect(secureKafkaClientEnv(stackPaths("/tmp/stack"))).toEqual({
      KAFKA_BROKERS: "127.0.0.1:9094",
      KAFKA_SSL: "true",
      KAFKA_SSL_CA_FILE: "/tmp/stack/secrets/ca.pem",
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "weather",
      KAFKA_SASL_PASSWORD_FILE: "/tmp/stack/secrets/kafka-weather.password",
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

describe("a locked-down node (pnpm stack up --secure)", () => {
  const files = { ...kafkaTlsFiles(stackPaths("/tmp/stack")), keystorePassword: "changeit" };
  const layout = kafkaLayout(3, 9092, { lockedDown: true });
  const node = layout.nodes[1];
  const properties = serverProperties({
    layout,
    ...(node ? { node } : {}),
    logDir: "/tmp/log",
    secure: files,
    lockedDown: { tls: files, adminPassword: "admin-secret" },
  });
  const lines = properties.split("\n");

  it("listens on SASL_SSL and an authenticated CONTROLLER only: no PLAINTEXT anywhere", () => {
    expect(lines).toContain("listeners=SASL_SSL://127.0.0.1:9097,CONTROLLER://127.0.0.1:9096");
    expect(lines).toContain("advertised.listeners=SASL_SSL://127.0.0.1:9097");
    expect(lines).toContain("listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL");
    expect(properties).not.toContain("PLAINTEXT:");
    expect(properties).not.toContain("PLAINTEXT://");
  });

  it("replicates over SASL_SSL as the admin, who is the one super user, and runs KRaft's authorizer", () => {
    expect(lines).toContain("inter.broker.listener.name=SASL_SSL");
    expect(lines).toContain("sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512");
    expect(lines).toContain("sasl.mechanism.controller.protocol=PLAIN");
    expect(lines).toContain("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    expect(lines).toContain("super.users=User:weather-admin");
    expect(lines).toContain("allow.everyone.if.no.acl.found=false");
    expect(lines).toContain("ssl.truststore.location=/tmp/stack/secrets/ca.pem");
  });

  it("gives the workers the SASL_SSL addresses as KAFKA_BROKERS", () => {
    expect(layout.bootstrapServers).toBe("127.0.0.1:9094,127.0.0.1:9097,127.0.0.1:9100");
  });

  it("locks the side cluster down when asked, and leaves it PLAINTEXT otherwise", () => {
    const secure = sideClusterContext(() => {}, {}, { secure: true }).kafka;
    expect(secure.lockedDown).toBe(true);
    expect(secure.bootstrapServers).toBe("127.0.0.1:19094,127.0.0.1:19097,127.0.0.1:19100");
    const open = sideClusterContext(() => {}, {}).kafka;
    expect([open.lockedDown, open.secure]).toEqual([false, false]);
  });

  it("adds the principals to the metadata log as salted credentials, never their passwords", () => {
    const dir = mkdtempSync(join(tmpdir(), "scram-"));
    try {
      const passwordFile = join(dir, "p");
      writeFileSync(passwordFile, "s3cret-password\n");
      const [flag, value] = addScramArguments([{ name: "weather-sink", passwordFile }]);
      expect(flag).toBe("--add-scram");
      expect(value).toMatch(
        /^SCRAM-SHA-512=\[name=weather-sink,iterations=8192,salt="[A-Za-z0-9+/=]+",saltedpassword="[A-Za-z0-9+/=]+"\]$/,
      );
      expect(value).not.toContain("s3cret-password");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
