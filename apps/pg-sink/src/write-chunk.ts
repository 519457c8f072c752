import { finished } from "node:stream/promises";
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, readingResends, weatherReadings } from "@weather/db";
import { cityTableName } from "@weather/schema";
import { getTableName } from "drizzle-orm";
import type { KafkaMessage } from "kafkajs";
import type { Sql, TransactionSql } from "postgres";
import type { DeadLetterSink, PoisonMessage } from "./dead-letter.ts";
import type { EncodedChunk } from "./encode-chunk.ts";
import { laterOf, lockNextOffset, type PartitionKey, planChunk, saveNextOffset } from "./offsets.ts";

const READINGS_TABLE = getTableName(weatherReadings);
const RESENDS_TABLE = getTableName(readingResends);

export interface ChunkToWrite {
  readonly key: PartitionKey;
  /** The chunk's messages, in offset order, decoded and written as COPY rows. */
  readonly encoded: EncodedChunk;
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

const UNIQUE_VIOLATION = "23505";
const COLUMN_LIST = COPY_COLUMNS.join(", ");
/** Where the rows of a chunk that holds already-stored readings go first (see storeRows). */
const STAGING_TABLE = "pg_sink_staging";

/** Sends binary COPY rows into `table` and resolves once PostgreSQL has taken all of them. */
async function copyIn(tx: TransactionSql, table: string, rows: readonly Buffer[]): Promise<void> {
  const writable =
    await tx`copy ${tx(table)} (${tx.unsafe(COLUMN_LIST)}) from stdin (format binary)`.writable();
  writable.write(COPY_HEADER);
  for (const part of rows) writable.write(part);
  writable.end(COPY_TRAILER);
  // Rejects with PostgreSQL's error when it refuses a row (postgres.js needs the patch in
  // patches/postgres@3.4.9.patch for an error that arrives after the last byte was sent).
  await finished(writable);
}

/**
 * Stores the chunk's rows, each reading once. The common case is one COPY into the partitioned
 * parent, which routes each row to its city's partition: PostgreSQL's bulk path, with no values to
 * parse in binary format, but without ON CONFLICT. So a savepoint precedes it, and when a reading
 * id is already stored (a producer that re-sent, a backfill run twice, the same reading twice in
 * this chunk) the COPY fails on the unique key: the transaction goes back to the savepoint and
 * takes the same rows through a staging table and one INSERT ... ON CONFLICT DO NOTHING, which keeps
 * the first of each reading and skips the rest, recording each skipped message in reading_resends
 * (its own offset, the reading it repeats), so `verify` can account for it. ON CONFLICT names no
 * key: the only unique key is the primary key, (city, reading_id, observed_at) since the monthly
 * partitions (packages/weather-db). The offset update issued before the savepoint is kept either
 * way. Returns the rows inserted.
 */
async function storeRows(tx: TransactionSql, rows: readonly Buffer[], count: number): Promise<number> {
  // Sent together with the COPY: no round trip of its own.
  const savepoint = tx`savepoint pg_sink_copy`.execute();
  try {
    await copyIn(tx, READINGS_TABLE, rows);
    await savepoint;
    return count;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
  }
  await tx`rollback to savepoint pg_sink_copy`;
  // Needs the TEMPORARY privilege on the database (bootstrap grants it to the sink's role).
  await tx`create temp table ${tx(STAGING_TABLE)} (like ${tx(READINGS_TABLE)} including defaults) on commit drop`;
  await copyIn(tx, STAGING_TABLE, rows);
  const columns = tx.unsafe(COLUMN_LIST);
  const [stored] = await tx<{ inserted: number }[]>`
    with inserted as (
      insert into ${tx(READINGS_TABLE)} (${columns})
      select ${columns} from ${tx(STAGING_TABLE)} order by source_offset
      on conflict do nothing
      returning source_offset
    ),
    resent as (
      insert into ${tx(RESENDS_TABLE)} (source_topic, source_partition, source_offset, reading_id, city, observed_at)
      select s.source_topic, s.source_partition, s.source_offset, s.reading_id, s.city, s.observed_at
      from ${tx(STAGING_TABLE)} s
      where not exists (select 1 from inserted i where i.source_offset = s.source_offset)
      on conflict do nothing
    )
    select count(*)::int as inserted from inserted`;
  return stored?.inserted ?? 0;
}

/** The rows of the messages from `first` on, less those of `skipped` messages, as slices of the chunk's rows. */
function rowsFrom(encoded: EncodedChunk, first: number, skipped: ReadonlySet<number>): Buffer[] {
  const parts: Buffer[] = [];
  let start = -1;
  let end = -1;
  for (let i = first; i < encoded.messages.length; i++) {
    const rowStart = encoded.rowStart[i] as number;
    if (rowStart < 0) continue;
    if (skipped.has(i)) {
      if (start >= 0) parts.push(encoded.rows.subarray(start, end));
      start = -1;
      continue;
    }
    if (start < 0) start = rowStart;
    end = encoded.rowEnd[i] as number;
  }
  if (start >= 0) parts.push(encoded.rows.subarray(start, end));
  return parts;
}

/**
 * Stores one chunk of one partition with an exactly-once effect, in ONE transaction: lock the
 * partition's offsets row, drop what is already stored, dead-letter the poison (awaited, before
 * COMMIT, so the offset never moves past a message that is neither stored nor dead-lettered),
 * store the readings (storeRows), advance the offset. A crash anywhere before COMMIT leaves nothing
 * behind but, at worst, a dead letter sent twice; a retry of the same chunk is then harmless.
 * Queries that do not wait for each other's answers are sent together (postgres.js pipelines
 * them): lock and table lookup; offset update, savepoint and COPY.
 */
export async function writeChunk(
  sql: Sql,
  chunk: ChunkToWrite,
  deadLetter: DeadLetterSink,
): Promise<ChunkWritten> {
  const { encoded } = chunk;
  const { messages } = encoded;
  const result = await sql.begin(async (tx): Promise<ChunkWritten> => {
    const [storedNext, tables] = await Promise.all([lockNextOffset(tx, chunk.key), existingCityTables(tx)]);
    const plan = planChunk(messages, storedNext, chunk.soughtTo);
    if (plan.kind === "seek") return plan;
    if (plan.fresh.length === 0) {
      // Everything was stored before; only records kafkajs filtered out (transaction markers) may
      // still lie past the stored offset. Never move the offset backwards.
      const next = laterOf(chunk.nextOffset, storedNext);
      if (next > storedNext) await saveNextOffset(tx, chunk.key, next);
      const nothing = { rowsWritten: 0, duplicates: 0, deadLettered: [] };
      return { kind: "stored", ...nothing, alreadyStored: plan.alreadyStored, nextOffset: next };
    }

    // planChunk keeps the messages from the first one at or past the stored offset: a suffix.
    const first = messages.length - plan.fresh.length;
    const poison: PoisonMessage[] = [];
    const skipped = new Set<number>();
    const cityHasTable = new Map<string, boolean>();
    let rowCount = 0;
    for (let i = first; i < messages.length; i++) {
      const message = messages[i] as KafkaMessage;
      const bad = encoded.poison[i];
      if (bad !== undefined) {
        poison.push({ message, poison: bad });
        continue;
      }
      const city = encoded.cities[i] as string;
      let hasTable = cityHasTable.get(city);
      if (hasTable === undefined) {
        const table = tableOf(city);
        hasTable = table !== undefined && tables.has(table);
        cityHasTable.set(city, hasTable);
      }
      if (!hasTable) {
        const table = tableOf(city);
        skipped.add(i);
        poison.push({
          message,
          poison: {
            errorClass: "MissingCityTableError",
            kind: "no-table",
            message: `no table ${table ?? "(invalid name)"} for city "${city}" of station ${encoded.stationIds[i]}; run bootstrap so it creates the city's partition`,
          },
        });
        continue;
      }
      rowCount += 1;
    }

    // Kafka takes the dead letters while PostgreSQL takes the rows; both finish before COMMIT.
    const dead = poison.length > 0 ? deadLetter(poison) : undefined;
    dead?.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    // Sent before storeRows's savepoint, so going back to the savepoint keeps it.
    const offsetSaved = saveNextOffset(tx, chunk.key, chunk.nextOffset);
    const rowsWritten = rowCount > 0 ? await storeRows(tx, rowsFrom(encoded, first, skipped), rowCount) : 0;
    await offsetSaved;
    await dead;
    return {
      kind: "stored",
      rowsWritten,
      duplicates: rowCount - rowsWritten,
      deadLettered: poison,
      alreadyStored: plan.alreadyStored,
      nextOffset: chunk.nextOffset,
    };
  });
  return result as ChunkWritten;
}
