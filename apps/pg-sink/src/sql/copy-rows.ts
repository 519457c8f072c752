import { finished } from "node:stream/promises";
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER } from "@weather/db";
import type { TransactionSql } from "postgres";

export const COPY_COLUMN_LIST = COPY_COLUMNS.join(", ");

/**
 * Sends binary COPY rows (CopyRows's format, header and trailer added here) into `table`, and
 * resolves once PostgreSQL has taken all of them.
 */
export async function copyRows(tx: TransactionSql, table: string, rows: Buffer): Promise<void> {
  const writable =
    await tx`copy ${tx(table)} (${tx.unsafe(COPY_COLUMN_LIST)}) from stdin (format binary)`.writable();
  writable.write(COPY_HEADER);
  writable.write(rows);
  writable.end(COPY_TRAILER);
  // Rejects with PostgreSQL's error when it refuses a row (postgres.js needs the patch in
  // patches/postgres@3.4.9.patch for an error that arrives after the last byte was sent).
  await finished(writable);
}
