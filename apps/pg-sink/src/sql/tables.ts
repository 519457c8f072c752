import { consumerOffsets, readingResends, weatherReadings } from "@weather/db";
import { getTableName } from "drizzle-orm";

/** The partitioned parent of every city table: COPY into it routes each row to its city. */
export const READINGS_TABLE = getTableName(weatherReadings);
/** Messages that repeated a stored reading, each with its own offset (see insertStagedReadings). */
export const RESENDS_TABLE = getTableName(readingResends);
/** Where each partition's next offset is stored, next to the rows it covers. */
export const OFFSETS_TABLE = getTableName(consumerOffsets);
