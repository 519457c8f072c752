// Settings are declared and read with @weather/settings; re-exported so a worker needs one import.
export * from "@weather/settings";
export {
  CONNECTION_GROUPS,
  CONNECTION_SETTINGS,
  type ConnectionSettings,
  readConnectionSettings,
  toConfigProblems,
} from "./connections.ts";
export { within } from "./deadline.ts";
export {
  type Dependency,
  DependencyUnavailableError,
  EXIT_CODES,
  type ExitCodeName,
  reasonOf,
  WorkerError,
  type WorkerErrorCode,
} from "./errors.ts";
export {
  asDependencyFailure,
  classifyFailure,
  dependencyOf,
  type Failure,
  type FailureKind,
} from "./failures.ts";
export {
  createKafka,
  KAFKA_RETRY,
  type KafkaOptions,
  type KafkaRetryPreset,
  kafkaClientConfig,
  kafkaLevelOf,
} from "./kafka.ts";
export {
  createTopicsAndWait,
  type PartitionMessage,
  type ReadTopicOptions,
  readTopicToEnd,
  waitForLeaders,
} from "./kafka-admin.ts";
export {
  CONFLUENT_COMPAT_PATH,
  DEFAULT_DATABASE_URL,
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_READER_DATABASE_URL,
  DEFAULT_READER_DB_ROLE,
  DEFAULT_SCHEMA_REGISTRY_URL,
  DEFAULT_SINK_HTTP_PORT,
  type KafkaNodePorts,
  kafkaNodePorts,
  LOCAL_STACK,
  localKafkaBrokers,
} from "./local-stack.ts";
export {
  createLogger,
  LOGGING_SETTINGS,
  type LogFormat,
  type Logger,
  logFormatOf,
  maskUrlPasswords,
  redactSecrets,
} from "./logger.ts";
export { type OpsServer, type OpsServerOptions, type Readiness, startOpsServer } from "./ops-server.ts";
export { type PostgresSecurityOptions, postgresOptions, redactUrl } from "./postgres.ts";
export {
  DATABASE_SECURITY_SETTINGS,
  type DatabaseSecurity,
  type DatabaseSslMode,
  KAFKA_SECURITY_SETTINGS,
  type KafkaSasl,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  type KafkaTls,
  readDatabaseSecurity,
  readKafkaSecurity,
  secretFrom,
  secretSettings,
} from "./security.ts";
export {
  describeFailure,
  runWorker,
  type WorkerContext,
  type WorkerDefinition,
} from "./worker.ts";
