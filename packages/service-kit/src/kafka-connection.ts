/**
 * Where Kafka is and how to reach it securely: the Kafka connection group every worker that talks
 * to Kafka reads, and its value, which createKafka takes.
 */
import { defineSettingsGroup, setting, switchSchema } from "@weather/settings";
import { z } from "zod";
import { DEFAULT_KAFKA_BROKERS } from "./local-stack.ts";
import { readPem, secretFrom, secretSettings } from "./secrets.ts";

/** SASL mechanisms kafkajs speaks without plugins. PLAIN sends the password itself: TLS only. */
const KAFKA_SASL_MECHANISMS = ["scram-sha-256", "scram-sha-512", "plain"] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface KafkaTls {
  /** PEM of the certificate authorities to trust instead of the system's; absent: the system's. */
  readonly ca?: string;
  readonly rejectUnauthorized: boolean;
}

/** How a worker authenticates to Kafka and protects the connection; both null means PLAINTEXT. */
export interface KafkaSecurity {
  readonly tls: KafkaTls | null;
  readonly sasl: KafkaSasl | null;
}

/** The Kafka connection group's value: use with createKafka. Holds the SASL password: never log it. */
export interface KafkaConnection {
  /** host:port pairs of the bootstrap brokers. */
  readonly brokers: readonly string[];
  readonly security: KafkaSecurity;
}

/** No TLS, no SASL: the local stack's PLAINTEXT listener. */
export const PLAINTEXT: KafkaSecurity = Object.freeze({ tls: null, sasl: null });

const hostPort = /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/;

const brokersSchema = z
  .string()
  .trim()
  .min(1, "is empty")
  .transform((raw) => raw.split(",").map((b) => b.trim()))
  .check((ctx) => {
    for (const broker of ctx.value) {
      if (!hostPort.test(broker)) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          message: `"${broker}" is not host:port; expected e.g. ${DEFAULT_KAFKA_BROKERS} (comma-separate several brokers)`,
        });
      }
    }
  });

const text = z.string().trim();
const saslPassword = secretSettings("KAFKA_SASL_PASSWORD", "the SASL password");

/** Where Kafka is, and how the workers protect and authenticate their connections to it. */
export const KAFKA_CONNECTION = defineSettingsGroup({
  title: "Kafka (brokers, TLS, SASL)",
  settings: {
    brokers: setting({
      env: "KAFKA_BROKERS",
      value: "HOST:PORT,...",
      description: "comma-separated bootstrap brokers of the Kafka cluster",
      default: DEFAULT_KAFKA_BROKERS,
      schema: brokersSchema,
    }),
    ssl: setting({
      env: "KAFKA_SSL",
      description: "connect to Kafka over TLS",
      defaultText: "on when KAFKA_SSL_CA_FILE is set, else off",
      schema: switchSchema,
    }),
    caFile: setting({
      env: "KAFKA_SSL_CA_FILE",
      value: "PATH",
      description: "PEM file of the certificate authorities to trust instead of the system's; turns TLS on",
      schema: text,
    }),
    rejectUnauthorized: setting({
      env: "KAFKA_SSL_REJECT_UNAUTHORIZED",
      description: "verify the broker's certificate (false only for a throwaway test broker)",
      default: "true",
      schema: switchSchema,
    }),
    saslMechanism: setting({
      env: "KAFKA_SASL_MECHANISM",
      description: `SASL mechanism: ${KAFKA_SASL_MECHANISMS.join(", ")} (plain only over TLS); unset: no SASL`,
      schema: text
        .toLowerCase()
        .pipe(z.enum(KAFKA_SASL_MECHANISMS, { error: `is not one of ${KAFKA_SASL_MECHANISMS.join(", ")}` })),
    }),
    saslUsername: setting({ env: "KAFKA_SASL_USERNAME", description: "the SASL user", schema: text }),
    saslPassword: saslPassword.value,
    saslPasswordFile: saslPassword.file,
  },
  /**
   * TLS and SASL with the checks that span several settings: a CA file turns TLS on (and
   * contradicts KAFKA_SSL=false), SASL needs a mechanism, a user and a password, PLAIN needs TLS.
   */
  read(values, { problems, failed }): KafkaConnection {
    const { caFile } = values;
    if (caFile !== undefined && values.ssl === false) {
      problems.push({
        setting: "KAFKA_SSL_CA_FILE",
        message: "is set but KAFKA_SSL=false; drop one of them",
      });
    }
    // A CA file only makes sense with TLS, so it turns TLS on by itself.
    const sslOn = values.ssl ?? caFile !== undefined;
    const ca = caFile !== undefined ? readPem("KAFKA_SSL_CA_FILE", caFile, problems) : undefined;
    const { rejectUnauthorized } = values;
    const tls: KafkaTls | null = sslOn
      ? Object.freeze(ca !== undefined ? { ca, rejectUnauthorized } : { rejectUnauthorized })
      : null;
    const brokers = Object.freeze(values.brokers);

    const mechanism = values.saslMechanism;
    const username = values.saslUsername === "" ? undefined : values.saslUsername;
    const before = problems.length;
    const password = secretFrom(
      { value: values.saslPassword, file: values.saslPasswordFile },
      "KAFKA_SASL_PASSWORD",
      problems,
    );
    const passwordReported = problems.length > before;
    if (mechanism === undefined && !failed("saslMechanism")) {
      if (username !== undefined || password !== undefined) {
        problems.push({
          setting: "KAFKA_SASL_MECHANISM",
          message: `is not set but a SASL username or password is; set it to one of ${KAFKA_SASL_MECHANISMS.join(", ")}`,
        });
      }
      return Object.freeze({ brokers, security: Object.freeze({ tls, sasl: null }) });
    }
    if (username === undefined) {
      problems.push({ setting: "KAFKA_SASL_USERNAME", message: `is required with KAFKA_SASL_MECHANISM` });
    }
    if (password === undefined && !passwordReported) {
      problems.push({
        setting: "KAFKA_SASL_PASSWORD",
        message: "is required with KAFKA_SASL_MECHANISM (or KAFKA_SASL_PASSWORD_FILE naming a file)",
      });
    }
    if (mechanism === "plain" && !sslOn) {
      problems.push({
        setting: "KAFKA_SASL_MECHANISM",
        message: "plain sends the password in clear text; enable TLS (KAFKA_SSL=true) or use scram-sha-512",
      });
    }
    const sasl =
      mechanism === undefined || username === undefined || password === undefined
        ? null
        : Object.freeze({ mechanism, username, password });
    return Object.freeze({ brokers, security: Object.freeze({ tls, sasl }) });
  },
});
