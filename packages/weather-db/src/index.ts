export { type ConnectOptions, connectOnce, databaseNameOf, maintenanceUrlOf } from "./connect.ts";
export { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows } from "./copy-rows.ts";
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
export { ensureSinkRole, type SinkRoleOptions, type SinkRoleResult } from "./roles.ts";
export {
  type ConsumerOffsetRow,
  consumerOffsets,
  type NewWeatherReadingRow,
  type WeatherReadingRow,
  weatherReadings,
} from "./tables.ts";
