import type { TransactionSql } from "postgres";
import { copyRows } from "./copy-rows.ts";
import { READINGS_TABLE } from "./tables.ts";

/** Where rows wait for a statement that COPY cannot make (ON CONFLICT); dropped at COMMIT. */
export const STAGING_TABLE = "pg_sink_staging";

/**
 * Copies the rows into a temporary table shaped like weather_readings, for the transaction's next
 * statement to take them from. Needs the TEMPORARY privilege on the database (bootstrap grants it
 * to the sink's role).
 */
export async function stageRows(tx: TransactionSql, rows: Buffer): Promise<void> {
  await tx`create temp table ${tx(STAGING_TABLE)} (like ${tx(READINGS_TABLE)} including defaults) on commit drop`;
  await copyRows(tx, STAGING_TABLE, rows);
}
