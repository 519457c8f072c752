import { readingResends, weatherReadings } from "@weather/db";
import { cityTableName, type WeatherReading } from "@weather/schema";
import { getTableName } from "drizzle-orm";
import type { KafkaMessage } from "kafkajs";
import type { Sql, TransactionSql } from "postgres";
import type { ClassifiedMessage } from "./classify.ts";
import type { Poison } from "./dead-letter.ts";
import { laterOf, lockNextOffset, type PartitionKey, planChunk, saveNextOffset } from "./offsets.ts";

const READINGS_TABLE = getTableName(weatherReadings);
const RESENDS_TABLE = getTableName(readingResends);

export interface PoisonMessage {
  readonly message: KafkaMessage;
  readonly poison: Poison;
}

export interface ChunkToWrite {
  readonly key: PartitionKey;
  /** In offset order. */
  readonly messages: readonly ClassifiedMessage[];
  /** The partition's next offset once this chunk is stored. */
  readonly nextOffset: bigint;
  /** The offset this process last sought to on the partition (see planChunk). */
  readonly soughtTo: bigint | undefined;
}

export type ChunkWritten =
  | {
      readonly kind: "stored";
      readonly rowsWritten: number;
      /** Valid readings whose reading_id was already stored (a producer retry): not written twice. */
      readonly duplicates: number;
      readonly deadLettered: readonly PoisonMessage[];
      /** Messages below the stored offset: another instance or an earlier run stored them. */
      readonly alreadyStored: number;
      /** The stored next offset after the transaction. */
      readonly nextOffset: bigint;
    }
  | { readonly kind: "seek"; readonly offset: bigint };

/** Sends dead letters and resolves once Kafka has them; called inside the transaction, before COMMIT. */
export type DeadLetterSink = (poison: readonly PoisonMessage[]) => Promise<void>;

/** The city partitions that exist now, looked up inside the transaction that inserts into them. */
async function existingCityTables(tx: TransactionSql): Promise<Set<string>> {
  const rows = await tx<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${READINGS_TABLE})`;
  return new Set(rows.map((r) => r.name));
}

function tableOf(city: string): string | undefined {
  try {
    return cityTableName(city);
  } catch {
    return undefined;
  }
}

/**
 * One statement for the whole chunk, through unnest over one array per column: a single round trip
 * and a single plan however many rows. The rows go into the partitioned parent, which routes each
 * to its city's partition. ON CONFLICT is a second guard behind the offset check: a reading
 * produced twice (a producer's re-send, a backfill run twice, twice in this chunk) is stored once,
 * and each later copy is recorded in reading_resends with its own offset, so `verify` can account
 * for it. ON CONFLICT names no key: the only unique key is the primary key, (city, reading_id,
 * observed_at) since the monthly partitions (packages/weather-db).
 */
async function insertReadings(
  tx: TransactionSql,
  key: PartitionKey,
  rows: readonly { readonly reading: WeatherReading; readonly offset: string }[],
): Promise<{ readonly inserted: number; readonly resent: number }> {
  if (rows.length === 0) return { inserted: 0, resent: 0 };
  const column = <T>(pick: (r: (typeof rows)[number]) => T): T[] => rows.map(pick);
  const [result] = await tx<{ inserted: number; resent: number }[]>`
    with incoming as (
      select * from unnest(
        ${column((r) => r.reading.readingId)}::uuid[],
        ${column((r) => r.reading.stationId)}::text[],
        ${column((r) => r.reading.city)}::text[],
        ${column((r) => r.reading.observedAt.toISOString())}::timestamptz[],
        ${column((r) => r.reading.temperatureC)}::float8[],
        ${column((r) => r.reading.windSpeedKmh)}::float8[],
        ${column((r) => r.reading.humidityPct)}::float8[],
        ${column((r) => r.reading.pressureHpa ?? null)}::float8[],
        ${column((r) => r.offset)}::int8[]
      ) as r(reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh, humidity_pct,
        pressure_hpa, source_offset)
    ),
    inserted as (
      insert into ${tx(READINGS_TABLE)} (
        reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh, humidity_pct,
        pressure_hpa, source_topic, source_partition, source_offset)
      select reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh, humidity_pct,
        pressure_hpa, ${key.topic}, ${key.partition}, source_offset
      from incoming order by source_offset
      on conflict do nothing
      returning source_offset
    ),
    resent as (
      insert into ${tx(RESENDS_TABLE)} (source_topic, source_partition, source_offset, reading_id, city, observed_at)
      select ${key.topic}, ${key.partition}, source_offset, reading_id, city, observed_at from incoming
      where source_offset not in (select source_offset from inserted)
      on conflict do nothing
      returning 1
    )
    select (select count(*) from inserted)::int as inserted, (select count(*) from resent)::int as resent`;
  return { inserted: result?.inserted ?? 0, resent: result?.resent ?? 0 };
}

/**
 * Stores one chunk of one partition with an exactly-once effect, in ONE transaction: lock the
 * partition's offsets row, drop what is already stored, dead-letter the poison (awaited, before
 * COMMIT, so the offset never moves past a message that is neither stored nor dead-lettered),
 * insert the readings, advance the offset. A crash anywhere before COMMIT leaves nothing behind
 * but, at worst, a dead letter sent twice; a retry of the same chunk is then harmless.
 */
export async function writeChunk(
  sql: Sql,
  chunk: ChunkToWrite,
  deadLetter: DeadLetterSink,
): Promise<ChunkWritten> {
  const withOffsets = chunk.messages.map((m) => ({ ...m, offset: m.message.offset }));
  const result = await sql.begin(async (tx): Promise<ChunkWritten> => {
    const storedNext = await lockNextOffset(tx, chunk.key);
    const plan = planChunk(withOffsets, storedNext, chunk.soughtTo);
    if (plan.kind === "seek") return plan;
    if (plan.fresh.length === 0) {
      // Everything was stored before; only records kafkajs filtered out (transaction markers) may
      // still lie past the stored offset. Never move the offset backwards.
      const next = laterOf(chunk.nextOffset, storedNext);
      if (next > storedNext) await saveNextOffset(tx, chunk.key, next);
      const nothing = { rowsWritten: 0, duplicates: 0, deadLettered: [] };
      return { kind: "stored", ...nothing, alreadyStored: plan.alreadyStored, nextOffset: next };
    }

    const tables = await existingCityTables(tx);
    const rows: { reading: WeatherReading; offset: string }[] = [];
    const poison: PoisonMessage[] = [];
    for (const { message, outcome, offset } of plan.fresh) {
      if (!outcome.ok) {
        poison.push({ message, poison: outcome.poison });
        continue;
      }
      const table = tableOf(outcome.reading.city);
      if (table === undefined || !tables.has(table)) {
        poison.push({
          message,
          poison: {
            errorClass: "MissingCityTableError",
            kind: "no-table",
            message: `no table ${table ?? "(invalid name)"} for city "${outcome.reading.city}" of station ${outcome.reading.stationId}; run bootstrap so it creates the city's partition`,
          },
        });
        continue;
      }
      rows.push({ reading: outcome.reading, offset });
    }

    if (poison.length > 0) await deadLetter(poison);
    const { inserted: rowsWritten } = await insertReadings(tx, chunk.key, rows);
    await saveNextOffset(tx, chunk.key, chunk.nextOffset);
    return {
      kind: "stored",
      rowsWritten,
      duplicates: rows.length - rowsWritten,
      deadLettered: poison,
      alreadyStored: plan.alreadyStored,
      nextOffset: chunk.nextOffset,
    };
  });
  return result as ChunkWritten;
}
