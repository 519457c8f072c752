export {
  type AvroField,
  type AvroRecordSchema,
  readingAvroSchema,
} from "./avro.ts";
export {
  CATALOG_SETTINGS,
  cityTableName,
  createStationCatalog,
  STATION_CATALOG,
  type StationCatalog,
  stationCatalogFrom,
} from "./catalog.ts";
export {
  canonicalReadingBytes,
  combineChecksums,
  createReadingsChecksum,
  READINGS_CHECKSUM_ALGORITHM,
  type ReadingsChecksum,
  readingDigest,
} from "./checksum.ts";
export {
  createReadingDecoder,
  createReadingEncoder,
  type ReadingDecoder,
  type ReadingDecoderOptions,
  type ReadingEncoder,
  type ReadingEncoderOptions,
} from "./codec.ts";
export {
  ReadingDecodeError,
  type ReadingDecodeErrorKind,
} from "./decode-error.ts";
export { READING_NUMBER_FIELDS, type ReadingSlots } from "./fast-reader.ts";
export { createFastReadingWriter, type FastReadingWriter } from "./fast-writer.ts";
export { type ReadingField, type ReadingFieldKind, readingFields } from "./fields.ts";
export { ISO_UTC_TIMESTAMP_PATTERN, type ReadingJsonSchema, readingJsonSchema } from "./json-schema.ts";
export {
  DASHBOARD_READ_GROUP_PREFIX,
  KAFKA_PRINCIPALS,
  type KafkaWorker,
  type WorkerAclNames,
  workerKafkaAcls,
} from "./kafka-acls.ts";
export {
  DEAD_LETTER_HEADERS,
  DEFAULT_READINGS_TOPIC,
  DEFAULT_SINK_GROUP_ID,
  deadLetterTopicOf,
  jsonValueSubjectOf,
  READINGS_TOPICS,
  type ReadingsTopics,
  SINK_GROUP,
  valueSubjectOf,
} from "./naming.ts";
export {
  LATEST_READING_SCHEMA_VERSION,
  MAX_FUTURE_SKEW_MS,
  READING_SCHEMA_VERSIONS,
  type ReadingFieldName,
  type ReadingSchemaVersion,
  readingSchema,
  type WeatherReading,
} from "./reading.ts";
export {
  createReadingReader,
  type ReadingReader,
  type ReadingReaderOptions,
  type ReadingVisitor,
} from "./reading-reader.ts";
export {
  type CompatibilityLevel,
  compatibilityPath,
  type RegisteredReadingSchema,
  type RegisterReadingSchemasOptions,
  registerReadingSchemas,
  SchemaRegistrationError,
  setSubjectCompatibility,
  subjectOf,
  subjectPath,
} from "./register.ts";
export {
  type CityManifest,
  MANIFEST_VERSION,
  type RunManifest,
  readRunManifest,
} from "./run-manifest.ts";
export { type ClimateNormals, DEFAULT_STATIONS, type Station } from "./stations.ts";
export { type ReadingValidation, validateReading } from "./validate.ts";
export { WIRE_FORMATS, type WireFormat } from "./wire-record.ts";
