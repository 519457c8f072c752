/**
 * What other workspace members may use of the local stack's manager: the reliability suite stops
 * and restarts the services the stack owns, through the same code `pnpm stack` runs, so a pid is
 * only ever signalled when the stack recorded it as its own.
 */
export type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
export { type DaemonState, daemonState, killDaemon, stopDaemon } from "./daemon.ts";
export { findJava, type JavaRuntime } from "./java.ts";
export { ensureKafkaJars } from "./kafka-jars.ts";
export { type StackPaths, stackPaths } from "./paths.ts";
export { describeHolder, type PortHolder, portHolder } from "./ports.ts";
export { kafkaDown, kafkaStatus, kafkaUp, probeKafka } from "./services/kafka.ts";
export {
  allPrincipals,
  applyWorkerAcls,
  type KafkaPrincipals,
  kafkaPrincipals,
  STANDARD_AUTHORIZER,
  secureKafkaConfig,
} from "./services/kafka-authz.ts";
export {
  KAFKA,
  type KafkaLayout,
  type KafkaNode,
  kafkaLayout,
  replicationOf,
} from "./services/kafka-layout.ts";
export {
  KAFKA_SECURE_ADDRESS,
  type KafkaTlsFiles,
  kafkaTlsFiles,
  secureKafkaClientEnv,
} from "./services/kafka-secure.ts";
export { POSTGRES, postgresUp, probePostgres } from "./services/postgres.ts";
export { type FailoverResult, failover, type RejoinResult, rejoin } from "./services/postgres-failover.ts";
export { type StandbyReplication, standbyReplication } from "./services/postgres-node.ts";
export {
  type PairNodeStatus,
  pairRoles,
  postgresPairDown,
  postgresPairStatus,
  postgresPairUp,
  removePostgresPair,
} from "./services/postgres-pair.ts";
export {
  type PairNode,
  type PairNodeName,
  POSTGRES_PAIR,
  type PostgresPairLayout,
  postgresPairUrl,
  readPostgresPair,
  STANDBY_MODES,
  type StandbyMode,
} from "./services/postgres-pair-layout.ts";
export {
  probeRegistry,
  REGISTRY,
  type RegistryLayout,
  registryLayout,
  registryLayoutOf,
  registryUp,
} from "./services/registry.ts";
export {
  httpsRequest,
  type ProxyAnswer,
  REGISTRY_PROXY,
  type RegistryCredentialFiles,
  registryCredentialFiles,
} from "./services/registry-proxy.ts";
export { type StackCaFiles, stackCaFiles } from "./services/stack-ca.ts";
export {
  SIDE_CLUSTER_NODES,
  sideClusterContext,
  sideClusterPaths,
  startSideCluster,
  stopSideCluster,
} from "./side-cluster.ts";
export {
  isHealthy,
  SERVICES,
  type ServiceName,
  secureStackFiles,
  stackContext,
  stackDown,
  stackStatus,
  stackUp,
} from "./stack.ts";
export { StackConflict, StackError } from "./stack-error.ts";
export { KAFKA_MIN_JAVA, kafkaVersion } from "./versions.ts";
