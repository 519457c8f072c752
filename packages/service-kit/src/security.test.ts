import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ConfigError, configurationOf } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { kafkaClientConfig } from "./kafka.ts";
import { KAFKA_CONNECTION } from "./kafka-connection.ts";
import { createLogger } from "./logger.ts";
import { postgresOptions, redactUrl } from "./postgres.ts";
import { POSTGRES_CONNECTION } from "./postgres-connection.ts";

const dir = mkdtempSync(join(tmpdir(), "service-kit-security-"));
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const caFile = join(dir, "ca.pem");
writeFileSync(caFile, PEM);
const passwordFile = join(dir, "password");
writeFileSync(passwordFile, "s3cret-from-file\n");

const CONNECTIONS = { groups: { kafka: KAFKA_CONNECTION, postgres: POSTGRES_CONNECTION } };
const connectionsOf = (env: Record<string, string>) => configurationOf(CONNECTIONS, env);
const kafkaOf = (env: Record<string, string>) => connectionsOf(env).kafka;
const postgresOf = (env: Record<string, string>) => connectionsOf(env).postgres;

function problemsOf(env: Record<string, string>): string[] {
  try {
    connectionsOf(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.setting).sort();
    throw error;
  }
  return [];
}

describe("Kafka security settings", () => {
  it("is PLAINTEXT without any variable", () => {
    expect(kafkaOf({}).security).toEqual({ tls: null, sasl: null });
    expect(kafkaClientConfig(kafkaOf({}), { clientId: "t" })).not.toHaveProperty("ssl");
  });

  it("builds SCRAM over TLS with the CA file and the password from a file", () => {
    const settings = kafkaOf({
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SASL_USERNAME: "weather",
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      KAFKA_SSL_CA_FILE: caFile,
    });
    const config = kafkaClientConfig(settings, { clientId: "t" });
    expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: [PEM] });
    expect(config.sasl).toEqual({
      mechanism: "scram-sha-512",
      username: "weather",
      password: "s3cret-from-file",
    });
  });

  it("reports every Kafka security problem at once", () => {
    expect(
      problemsOf({
        KAFKA_SSL: "maybe",
        KAFKA_SASL_MECHANISM: "kerberos",
        KAFKA_SASL_PASSWORD: "x",
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
        KAFKA_SSL_CA_FILE: join(dir, "missing.pem"),
      }),
    ).toEqual([
      "KAFKA_SASL_MECHANISM",
      "KAFKA_SASL_PASSWORD",
      "KAFKA_SASL_USERNAME",
      "KAFKA_SSL",
      "KAFKA_SSL_CA_FILE",
    ]);
  });

  it("refuses credentials without a mechanism, and PLAIN without TLS", () => {
    expect(problemsOf({ KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" })).toEqual([
      "KAFKA_SASL_MECHANISM",
    ]);
    expect(
      problemsOf({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }),
    ).toEqual(["KAFKA_SASL_MECHANISM"]);
  });
});

describe("PostgreSQL security settings", () => {
  it("keeps TLS off by default", () => {
    expect(postgresOptions(postgresOf({}))).toEqual({ ssl: false });
  });

  it("maps sslmode and takes the root certificate out of the URL", () => {
    const settings = postgresOf({
      DATABASE_URL: `postgres://u@db.internal:5432/weather?sslmode=verify-full&sslrootcert=${caFile}`,
    });
    expect(settings.url).toBe("postgres://u@db.internal:5432/weather?sslmode=verify-full");
    expect(postgresOptions(settings)).toEqual({
      ssl: { rejectUnauthorized: true, ca: PEM, host: "db.internal" },
    });
    const require = postgresOf({ DATABASE_URL: "postgres://u@h/weather?sslmode=require" });
    expect(postgresOptions(require)).toEqual({ ssl: "require" });
    const verifyCa = postgresOptions(
      postgresOf({
        DATABASE_URL: "postgres://u@h/weather?sslmode=require",
        DATABASE_SSL_CA_FILE: caFile,
      }),
    );
    expect(verifyCa.ssl).toMatchObject({ rejectUnauthorized: true, ca: PEM });
    expect(typeof (verifyCa.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBe("function");
  });

  it("reads the password from DATABASE_PASSWORD_FILE", () => {
    const settings = postgresOf({ DATABASE_PASSWORD_FILE: passwordFile });
    expect(postgresOptions(settings)).toEqual({ ssl: false, pass: "s3cret-from-file" });
  });

  it("reports a bad sslmode with the other problems", () => {
    expect(
      problemsOf({
        DATABASE_URL: "postgres://u@h/weather?sslmode=sometimes",
        DATABASE_PASSWORD_FILE: join(dir, "nope"),
        KAFKA_BROKERS: "no-port",
      }),
    ).toEqual(["DATABASE_PASSWORD_FILE", "DATABASE_URL", "KAFKA_BROKERS"]);
  });
});

describe("secrets in logs", () => {
  it("masks a URL's password", () => {
    expect(redactUrl("postgres://sink:hunter2@h:5432/weather")).toBe("postgres://sink:***@h:5432/weather");
  });

  it("never writes a password, however the settings are logged", () => {
    const settings = connectionsOf({
      DATABASE_URL: "postgres://sink:hunter2@h:5432/weather",
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "weather",
      KAFKA_SASL_PASSWORD: "kafka-secret",
    });
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger("t", {}, stream);
    log.info({ settings }, "settings");
    log.info({ ...settings.kafka, ...settings.postgres }, "spread");
    log.info({ kafka: kafkaClientConfig(settings.kafka, { clientId: "t" }) }, "client");
    log.info({ db: postgresOptions(settings.postgres) }, "db");
    log.info(`connecting to ${settings.postgres.url}`);
    log.error({ err: new Error("boom") }, "an error keeps its serializer");
    const output = lines.join("");
    expect(output).toContain("postgres://sink:***@h:5432/weather");
    expect(output).toContain('"message":"boom"');
    expect(output).not.toContain("hunter2");
    expect(output).not.toContain("kafka-secret");
  });
});
