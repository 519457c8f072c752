// bench/ imports these from here until it reads its settings as the workers do (bench-floor is
// reworking it); then this line goes. Everything else imports them from @weather/settings.
export { ConfigError, type ConfigProblem, configurationOf, presentVariables } from "@weather/settings";
// The workers' logger is pino's: every worker logs through the one createLogger makes.
export type { Logger } from "pino";
export { type ConnectionSettings, readConnectionSettings, toConfigProblems } from "./connections.ts";
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
  createKafkaAcls,
  type KafkaAcl,
  type KafkaAclOperation,
  type KafkaAclResource,
  kafkaAclEntries,
  kafkaAclTable,
} from "./kafka-acls.ts";
export {
  createTopicsAndWait,
  type PartitionMessage,
  READ_TO_END_GROUP_PREFIX,
  type ReadTopicOptions,
  readTopicToEnd,
  waitForLeaders,
} from "./kafka-admin.ts";
export {
  KAFKA_CONNECTION,
  type KafkaConnection,
  type KafkaSasl,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  type KafkaTls,
  PLAINTEXT,
} from "./kafka-connection.ts";
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
  type RegistryPorts,
  type RegistryProxyPorts,
  registryPorts,
  registryProxyPorts,
} from "./local-stack.ts";
export {
  createLogger,
  LOGGING,
  type LogFormat,
  type LoggingSettings,
  type LogLevel,
  maskUrlPasswords,
  redactSecrets,
} from "./logger.ts";
export {
  type CounterDeclaration,
  createWorkerMetrics,
  defineWorkerMetrics,
  documentMetrics,
  type GaugeDeclaration,
  type HistogramDeclaration,
  METRICS_NAMESPACE,
  type MetricDeclaration,
  metricsMarkdown,
  packageVersion,
  type WorkerMetrics,
  type WorkerMetricsDefinition,
} from "./metrics.ts";
export { type OpsServer, type OpsServerOptions, type Readiness, startOpsServer } from "./ops-server.ts";
export { type PostgresSecurityOptions, postgresOptions, redactUrl } from "./postgres.ts";
export {
  type DatabaseSecurity,
  type DatabaseSslMode,
  POSTGRES_CONNECTION,
  type PostgresConnection,
  postgresConnectionGroup,
} from "./postgres-connection.ts";
export {
  createRegistryClient,
  fetchRegistry,
  REGISTRY_CONNECTION,
  type RegistryClient,
  type RegistryConnection,
  registryUrl,
} from "./registry.ts";
export { secretFrom, secretSettings } from "./secrets.ts";
export {
  describeFailure,
  runWorker,
  type WorkerContext,
  type WorkerDefinition,
  type WorkerGroups,
} from "./worker.ts";
export { PRODUCER_METRICS, SINK_METRICS } from "./worker-metrics.ts";
