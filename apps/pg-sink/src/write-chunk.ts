import type { Sql, TransactionSql } from "postgres";
import { chunkPartFrom, type DecodedChunk } from "./decode-chunk.ts";
import { laterOf, type PartitionKey, planChunk } from "./offsets.ts";
import type { PoisonMessage } from "./poison.ts";
import { copyReadings } from "./sql/copy-readings.ts";
import { insertStagedReadings } from "./sql/insert-staged-readings.ts";
import { lockNextOffset } from "./sql/lock-offset.ts";
import { saveNextOffset } from "./sql/save-offset.ts";
import { stageRows } from "./sql/stage-rows.ts";

/** Step 2's input: a decided chunk, and the progress it moves. */
export interface ChunkToWrite {
  /** Whose stored offset the chunk moves: the partition's row in consumer_offsets. */
  readonly key: PartitionKey;
  /** The chunk's messages, decided (step 1): rows to store and poison. */
  readonly chunk: DecodedChunk;
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
      /** The messages not stored, handed to routePoison before COMMIT. */
      readonly poison: readonly PoisonMessage[];
      /** Messages below the stored offset: another instance or an earlier run stored them. */
      readonly alreadyStored: number;
      /** The stored next offset after the transaction. */
      readonly nextOffset: bigint;
    }
  | { readonly kind: "seek"; readonly offset: bigint };

/**
 * Takes the poison of a chunk (the writer's report of which messages it does not store) somewhere
 * they are kept, and resolves once they are: the transaction commits only after that.
 */
export type RoutePoison = (poison: readonly PoisonMessage[]) => Promise<void>;

/**
 * Stores each reading once: one COPY in the common case (copyReadings); when a reading id is
 * already stored, the same rows through a staging table and INSERT ... ON CONFLICT DO NOTHING,
 * which records the skipped ones as re-sends. Returns the rows inserted.
 */
async function storeRows(tx: TransactionSql, rows: Buffer, count: number): Promise<number> {
  if (await copyReadings(tx, rows)) return count;
  await stageRows(tx, rows);
  return insertStagedReadings(tx);
}

/**
 * Step 2: stores one decided chunk of one partition with an exactly-once effect, in ONE
 * transaction: lock the partition's offsets row, drop what is already stored (planChunk), hand the
 * poison to routePoison and wait for it before COMMIT (so the offset never moves past a message
 * that is neither stored nor dead-lettered), store the readings, move the offset. A crash anywhere
 * before COMMIT leaves nothing behind but, at worst, a dead letter sent twice; a retry of the same
 * chunk is then harmless. Statements that do not wait for each other's answers are sent together
 * (postgres.js pipelines them): the offset row's insert and lock; the offset update, the savepoint
 * and the COPY.
 */
export async function writeChunk(
  sql: Sql,
  { key, chunk, nextOffset, soughtTo }: ChunkToWrite,
  routePoison: RoutePoison,
): Promise<ChunkWritten> {
  const { messages } = chunk;
  const result = await sql.begin(async (tx): Promise<ChunkWritten> => {
    const storedNext = await lockNextOffset(tx, key);
    const plan = planChunk(messages, storedNext, soughtTo);
    if (plan.kind === "seek") return plan;
    if (plan.fresh.length === 0) {
      // Everything was stored before; only records kafkajs filtered out (transaction markers) may
      // still lie past the stored offset. Never move the offset backwards.
      const next = laterOf(nextOffset, storedNext);
      if (next > storedNext) await saveNextOffset(tx, key, next);
      const nothing = { rowsWritten: 0, duplicates: 0, poison: [] };
      return { kind: "stored", ...nothing, alreadyStored: plan.alreadyStored, nextOffset: next };
    }

    // planChunk keeps the messages from the first one at or past the stored offset: a suffix.
    const fresh = chunkPartFrom(chunk, messages.length - plan.fresh.length);
    // Kafka takes the dead letters while PostgreSQL takes the rows; both finish before COMMIT.
    const routed = fresh.poison.length > 0 ? routePoison(fresh.poison) : undefined;
    routed?.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    // Sent before copyReadings's savepoint, so going back to the savepoint keeps it.
    const offsetSaved = saveNextOffset(tx, key, nextOffset);
    const rowsWritten = fresh.rowCount > 0 ? await storeRows(tx, fresh.rows, fresh.rowCount) : 0;
    await offsetSaved;
    await routed;
    return {
      kind: "stored",
      rowsWritten,
      duplicates: fresh.rowCount - rowsWritten,
      poison: fresh.poison,
      alreadyStored: plan.alreadyStored,
      nextOffset,
    };
  });
  return result as ChunkWritten;
}
