/**
 * The connection settings in the shape infra/ (the stack CLI) and bench/ still read, until they
 * read the connection groups as the workers do (they are being changed on other branches; issue
 * 19). Workers and tests read KAFKA_CONNECTION, REGISTRY_CONNECTION and POSTGRES_CONNECTION.
 */
import { type ConfigProblem, configurationOf, type Env } from "@weather/settings";
import type { z } from "zod";
import { KAFKA_CONNECTION, type KafkaSecurity } from "./kafka-connection.ts";
import { type DatabaseSecurity, POSTGRES_CONNECTION } from "./postgres-connection.ts";
import { REGISTRY_CONNECTION } from "./registry.ts";

/** Where Kafka, the schema registry and PostgreSQL are, flat; see the connection groups. */
export interface ConnectionSettings {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  readonly kafkaSecurity: KafkaSecurity;
  readonly databaseSecurity: DatabaseSecurity;
}

const CONNECTIONS = {
  groups: { kafka: KAFKA_CONNECTION, registry: REGISTRY_CONNECTION, postgres: POSTGRES_CONNECTION },
};

/**
 * The three connection groups, flattened.
 * @throws ConfigError listing every invalid variable.
 */
export function readConnectionSettings(env: Env): ConnectionSettings {
  const { kafka, registry, postgres } = configurationOf(CONNECTIONS, env);
  return Object.freeze({
    kafkaBrokers: kafka.brokers,
    schemaRegistryUrl: registry.url,
    databaseUrl: postgres.url,
    kafkaSecurity: kafka.security,
    databaseSecurity: postgres.security,
  });
}

/** Turns zod's issues into problems named after the environment variable that caused them. */
export function toConfigProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({
    setting: issue.path.map(String).join(".") || "(configuration)",
    message: issue.message,
  }));
}
