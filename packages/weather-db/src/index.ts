export {
  READING_DIGEST_SQL,
  type StoredChecksum,
  type StoredChecksums,
  storedReadingsChecksums,
} from "./checksum.ts";
export { type ConnectOptions, connectOnce, databaseNameOf, maintenanceUrlOf } from "./connect.ts";
export { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows } from "./copy-rows.ts";
export {
  type CreateDatabaseResult,
  createDatabaseIfMissing,
  dropDatabaseIfExists,
} from "./create-database.ts";
export {
  type CityMaintenance,
  type MaintenanceOptions,
  type MaintenanceResult,
  maintainPartitions,
  NotBootstrappedError,
} from "./maintain.ts";
export {
  type CityMonthsResult,
  MIGRATIONS_FOLDER,
  type MigrationsResult,
  migrate,
  type PrepareOptions,
  type PrepareResult,
  prepareDatabase,
  withSchemaLock,
} from "./migrate.ts";
export {
  defaultPartitionMonths,
  dropMonthsBefore,
  type EnsureMonthsResult,
  ensureMonths,
  monthPartitionName,
} from "./monthly-partitions.ts";
export {
  bootstrapMonths,
  DEFAULT_MONTH_WINDOW,
  describeMonths,
  formatMonth,
  type Month,
  type MonthWindow,
  monthOf,
  oldestKept,
} from "./months.ts";
export {
  defaultPartitionName,
  ensureCityPartitions,
  type PartitionsResult,
} from "./partitions.ts";
export {
  ensureReaderRole,
  ensureSinkRole,
  type RoleOptions,
  type RoleResult,
} from "./roles.ts";
export {
  type ConsumerOffsetRow,
  consumerOffsets,
  type NewWeatherReadingRow,
  readingResends,
  type WeatherReadingRow,
  weatherReadings,
} from "./tables.ts";
