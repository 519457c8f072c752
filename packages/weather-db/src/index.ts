export { type ConnectOptions, connectOnce, databaseNameOf, maintenanceUrlOf } from "./connect.ts";
export {
  type CreateDatabaseResult,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
} from "./create-database.ts";
export {
  applyCommittedMigrations,
  MIGRATIONS_FOLDER,
  type MigrationsResult,
  migrate,
  type PrepareResult,
  prepareDatabase,
  SCHEMA_LOCK_KEY,
  withSchemaLock,
} from "./migrate.ts";
export { ensureCityPartitions, type PartitionsResult } from "./partitions.ts";
export {
  ensureReaderRole,
  ensureSinkRole,
  type RoleOptions,
  type RoleResult,
  type SinkRoleOptions,
  type SinkRoleResult,
} from "./roles.ts";
export {
  type ConsumerOffsetRow,
  consumerOffsets,
  type NewWeatherReadingRow,
  type WeatherReadingRow,
  weatherReadings,
} from "./tables.ts";
