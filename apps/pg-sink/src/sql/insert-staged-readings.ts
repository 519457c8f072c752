import type { TransactionSql } from "postgres";
import { COPY_COLUMN_LIST } from "./copy-rows.ts";
import { STAGING_TABLE } from "./stage-rows.ts";
import { READINGS_TABLE, RESENDS_TABLE } from "./tables.ts";

/**
 * Inserts the staged rows (stageRows) into weather_readings, keeping the first of each reading
 * (in offset order) and skipping those already stored, and records each skipped message in
 * reading_resends (its own offset, the reading it repeats) so `verify` can account for it: one
 * statement, which alone knows which rows it inserted. ON CONFLICT names no key: the only unique
 * key is the primary key, (city, reading_id, observed_at) since the monthly partitions
 * (packages/weather-db). Returns the rows inserted.
 */
export async function insertStagedReadings(tx: TransactionSql): Promise<number> {
  const columns = tx.unsafe(COPY_COLUMN_LIST);
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
