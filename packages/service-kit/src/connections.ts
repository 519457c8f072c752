import {
  ConfigError,
  type ConfigProblem,
  type Env,
  readSettings,
  type SettingsGroup,
  setting,
} from "@weather/settings";
import { z } from "zod";
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS, DEFAULT_SCHEMA_REGISTRY_URL } from "./local-stack.ts";
import {
  DATABASE_SECURITY_SETTINGS,
  type DatabaseSecurity,
  KAFKA_SECURITY_SETTINGS,
  type KafkaSecurity,
  readDatabaseSecurity,
  readKafkaSecurity,
} from "./security.ts";

/** Where a worker finds Kafka, the schema registry and PostgreSQL. */
export interface ConnectionSettings {
  /** host:port pairs of the bootstrap brokers. */
  readonly kafkaBrokers: readonly string[];
  /** Base URL of a Confluent-compatible schema registry API. */
  readonly schemaRegistryUrl: string;
  /**
   * postgres:// URL of the product's database, without libpq's certificate-file parameters
   * (sslrootcert and friends: they live in databaseSecurity). May hold a password: log it only
   * through redactUrl.
   */
  readonly databaseUrl: string;
  /** TLS and SASL towards Kafka; secrets inside, never log it. Use with createKafka. */
  readonly kafkaSecurity: KafkaSecurity;
  /** TLS mode, root certificate and password towards PostgreSQL; use with postgresOptions. */
  readonly databaseSecurity: DatabaseSecurity;
}

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

const httpUrlSchema = z.url({
  protocol: /^https?$/,
  error: `must be an http:// or https:// URL, e.g. ${DEFAULT_SCHEMA_REGISTRY_URL}`,
});

const databaseUrlSchema = z.url({
  protocol: /^postgres(ql)?$/,
  error: `must be a postgres:// URL, e.g. ${DEFAULT_DATABASE_URL}`,
});

/** Where the services are; the defaults are the local stack's (`pnpm stack up`). */
export const CONNECTION_SETTINGS = Object.freeze({
  kafkaBrokers: setting({
    env: "KAFKA_BROKERS",
    value: "HOST:PORT,...",
    description: "comma-separated bootstrap brokers of the Kafka cluster",
    default: DEFAULT_KAFKA_BROKERS,
    schema: brokersSchema,
  }),
  schemaRegistryUrl: setting({
    env: "SCHEMA_REGISTRY_URL",
    value: "URL",
    description: "a Confluent-compatible schema registry API",
    default: DEFAULT_SCHEMA_REGISTRY_URL,
    schema: httpUrlSchema,
  }),
  databaseUrl: setting({
    env: "DATABASE_URL",
    value: "URL",
    description:
      "the product's PostgreSQL database (bootstrap creates it); may carry sslmode and sslrootcert",
    default: DEFAULT_DATABASE_URL,
    schema: databaseUrlSchema,
  }),
});

/** Every connection setting, as --help and the docs show them. */
export const CONNECTION_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "Connections", settings: CONNECTION_SETTINGS },
  { title: "Kafka security (TLS, SASL)", settings: KAFKA_SECURITY_SETTINGS },
  { title: "PostgreSQL security", settings: DATABASE_SECURITY_SETTINGS },
]);

/** Turns zod's issues into problems named after the environment variable that caused them. */
export function toConfigProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({
    setting: issue.path.map(String).join(".") || "(configuration)",
    message: issue.message,
  }));
}

/**
 * Reads where Kafka, the registry and PostgreSQL are (CONNECTION_SETTINGS) and how to reach them
 * securely (KAFKA_SECURITY_SETTINGS, DATABASE_SECURITY_SETTINGS): TLS and SASL for Kafka, sslmode,
 * root certificate and password for PostgreSQL, secrets from variables or files.
 * @throws ConfigError listing every invalid variable.
 */
export function readConnectionSettings(env: Env): ConnectionSettings {
  const problems: ConfigProblem[] = [];
  const connections = readSettings(CONNECTION_SETTINGS, { env }, problems);
  const kafkaSecurity = readKafkaSecurity(readSettings(KAFKA_SECURITY_SETTINGS, { env }, problems), problems);
  const database = readDatabaseSecurity(
    connections.databaseUrl ?? DEFAULT_DATABASE_URL,
    readSettings(DATABASE_SECURITY_SETTINGS, { env }, problems),
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    kafkaBrokers: Object.freeze(connections.kafkaBrokers),
    schemaRegistryUrl: connections.schemaRegistryUrl.replace(/\/+$/, ""),
    databaseUrl: database.url,
    kafkaSecurity,
    databaseSecurity: database.security,
  });
}
