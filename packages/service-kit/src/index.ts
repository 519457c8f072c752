export { ConfigError, type ConfigProblem } from "./config-error.ts";
export { type ConnectionSettings, readConnectionSettings, toConfigProblems } from "./connections.ts";
export {
  CONFLUENT_COMPAT_PATH,
  DEFAULT_DATABASE_URL,
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_SCHEMA_REGISTRY_URL,
  LOCAL_STACK,
} from "./local-stack.ts";
export { createLogger, type Logger } from "./logger.ts";
