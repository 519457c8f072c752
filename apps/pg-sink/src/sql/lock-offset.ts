import type { TransactionSql } from "postgres";
import type { PartitionKey } from "../offsets.ts";
import { OFFSETS_TABLE } from "./tables.ts";

/**
 * Locks the partition's offsets row for the rest of the transaction and returns its next offset.
 * A second instance working on the same partition (a rebalance in progress, a zombie) waits here,
 * then reads the offset the first one committed and drops what is already stored. An absent row
 * means nothing was stored yet: it starts at 0, and planChunk sorts out logs that start later.
 */
export async function lockNextOffset(tx: TransactionSql, key: PartitionKey): Promise<bigint> {
  // Both sent at once (postgres.js pipelines them): one round trip.
  const created = tx`
    insert into ${tx(OFFSETS_TABLE)} (consumer_group, topic, partition, next_offset)
    values (${key.group}, ${key.topic}, ${key.partition}, 0)
    on conflict (consumer_group, topic, partition) do nothing`.execute();
  const locked = tx<{ next: string }[]>`
    select next_offset::text as next from ${tx(OFFSETS_TABLE)}
    where consumer_group = ${key.group} and topic = ${key.topic} and partition = ${key.partition}
    for update`.execute();
  await created;
  const [row] = await locked;
  if (!row) throw new Error(`offsets row of ${key.topic}[${key.partition}] vanished inside its transaction`);
  return BigInt(row.next);
}
