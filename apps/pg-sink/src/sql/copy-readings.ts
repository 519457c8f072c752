import type { TransactionSql } from "postgres";
import { copyRows } from "./copy-rows.ts";
import { READINGS_TABLE } from "./tables.ts";

const UNIQUE_VIOLATION = "23505";

/**
 * One COPY into the partitioned parent, which routes each row to its city's partition:
 * PostgreSQL's bulk path, with no values to parse in binary format, but without ON CONFLICT. So a
 * savepoint precedes it, and when a reading id is already stored (a producer that re-sent, a
 * backfill run twice, the same reading twice in this chunk) the COPY fails on the unique key and
 * the transaction goes back to the savepoint: false, and nothing of the rows is stored. Statements
 * sent before this call (the offset update) are kept either way.
 */
export async function copyReadings(tx: TransactionSql, rows: Buffer): Promise<boolean> {
  // Sent together with the COPY: no round trip of its own.
  const savepoint = tx`savepoint pg_sink_copy`.execute();
  try {
    await copyRows(tx, READINGS_TABLE, rows);
    await savepoint;
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
  }
  await tx`rollback to savepoint pg_sink_copy`;
  return false;
}
