export {
  createKafka,
  type KafkaClientOptions,
  kafkaClientConfig,
  type PostgresSecurityOptions,
  postgresOptions,
  redactUrl,
} from "./clients.ts";
export {
  ConfigError,
  type ConfigProblem,
  collectProblems,
  type Env,
  presentVariables,
} from "./config-error.ts";
export { type ConnectionSettings, readConnectionSettings, toConfigProblems } from "./connections.ts";
export {
  CONFLUENT_COMPAT_PATH,
  DEFAULT_DATABASE_URL,
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_SCHEMA_REGISTRY_URL,
  KAFKA_PORTS_PER_NODE,
  type KafkaNodePorts,
  kafkaNodePorts,
  LOCAL_STACK,
  localKafkaBrokers,
} from "./local-stack.ts";
export { createLogger, type Logger, maskUrlPasswords, redactSecrets } from "./logger.ts";
export {
  DATABASE_SSL_MODES,
  type DatabaseSecurity,
  type DatabaseSslMode,
  KAFKA_SASL_MECHANISMS,
  type KafkaSasl,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  type KafkaTls,
  readDatabaseSecurity,
  readKafkaSecurity,
  secretFrom,
} from "./security.ts";
export {
  collectTopicToEnd,
  createTopicsAndWait,
  deleteTopicsIfPresent,
  type PartitionMessage,
  readTopicToEnd,
  waitForLeaders,
} from "./topics.ts";
