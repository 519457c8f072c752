/**
 * Where the services of the local stack (`pnpm stack up`) listen. Workers and tests default to
 * these addresses, so nothing needs exporting after the stack is up; infra/ starts the services
 * on exactly these ports. Change a port here and both sides follow.
 */
export const LOCAL_STACK = Object.freeze({
  host: "127.0.0.1",
  kafkaPort: 9092,
  kafkaControllerPort: 9093,
  /** The broker's SASL_SSL listener (SCRAM-SHA-512 over TLS, self-signed certificate). */
  kafkaSecurePort: 9094,
  /** The SCRAM user the stack creates for the SASL_SSL listener; its password is in a file. */
  kafkaScramUser: "weather",
  registryPort: 8081,
  registryManagementPort: 9081,
  postgresPort: 5432,
  /** The database the product's tables live in; bootstrap creates it. */
  database: "weather",
  /** The database Apicurio Registry keeps its schemas in, on the same PostgreSQL server. */
  registryDatabase: "apicurio_registry",
});

/** Apicurio Registry serves the Confluent Schema Registry REST API under this path. */
export const CONFLUENT_COMPAT_PATH = "/apis/ccompat/v7";

export const DEFAULT_KAFKA_BROKERS = `${LOCAL_STACK.host}:${LOCAL_STACK.kafkaPort}`;
export const DEFAULT_SCHEMA_REGISTRY_URL = `http://${LOCAL_STACK.host}:${LOCAL_STACK.registryPort}${CONFLUENT_COMPAT_PATH}`;
export const DEFAULT_DATABASE_URL = `postgres://postgres@${LOCAL_STACK.host}:${LOCAL_STACK.postgresPort}/${LOCAL_STACK.database}`;

/** The read-only role bootstrap creates (READER_DB_ROLE) and the dashboard reads as. */
export const DEFAULT_READER_DB_ROLE = "weather_reader";
/** The product's database as the read-only role: the dashboard's default DATABASE_URL. */
export const DEFAULT_READER_DATABASE_URL = `postgres://${DEFAULT_READER_DB_ROLE}@${LOCAL_STACK.host}:${LOCAL_STACK.postgresPort}/${LOCAL_STACK.database}`;

/**
 * Where pg-sink serves /healthz, /readyz and /metrics unless SINK_HTTP_PORT says otherwise; the
 * dashboard looks for sinks there.
 */
export const DEFAULT_SINK_HTTP_PORT = 9464;
