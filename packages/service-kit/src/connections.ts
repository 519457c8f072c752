import { z } from "zod";
import { ConfigError, type ConfigProblem, presentVariables } from "./config-error.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS, DEFAULT_SCHEMA_REGISTRY_URL } from "./local-stack.ts";
import {
  type DatabaseSecurity,
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

const connectionEnvSchema = z.object({
  KAFKA_BROKERS: brokersSchema.prefault(DEFAULT_KAFKA_BROKERS),
  SCHEMA_REGISTRY_URL: httpUrlSchema.default(DEFAULT_SCHEMA_REGISTRY_URL),
  DATABASE_URL: databaseUrlSchema.default(DEFAULT_DATABASE_URL),
});

/** Turns zod's issues into problems named after the environment variable that caused them. */
export function toConfigProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({
    setting: issue.path.map(String).join(".") || "(configuration)",
    message: issue.message,
  }));
}

/**
 * Reads KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL, each defaulting to the local stack,
 * and the security settings (readKafkaSecurity, readDatabaseSecurity): TLS and SASL for Kafka,
 * sslmode, root certificate and password for PostgreSQL, secrets from variables or files.
 * Empty values count as unset, as a shell's `VAR= cmd` usually means "use the default".
 * @throws ConfigError listing every invalid variable.
 */
export function readConnectionSettings(
  env: Readonly<Record<string, string | undefined>>,
): ConnectionSettings {
  const present = presentVariables(env);
  const parsed = connectionEnvSchema.safeParse(present);
  const problems = parsed.success ? [] : toConfigProblems(parsed.error);
  const kafkaSecurity = readKafkaSecurity(env, problems);
  const database = readDatabaseSecurity(
    parsed.success ? parsed.data.DATABASE_URL : (present.DATABASE_URL ?? DEFAULT_DATABASE_URL),
    env,
    problems,
  );
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    kafkaBrokers: Object.freeze(parsed.data.KAFKA_BROKERS),
    schemaRegistryUrl: parsed.data.SCHEMA_REGISTRY_URL.replace(/\/+$/, ""),
    databaseUrl: database.url,
    kafkaSecurity,
    databaseSecurity: database.security,
  });
}
