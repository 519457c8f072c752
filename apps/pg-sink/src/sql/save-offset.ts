import type { TransactionSql } from "postgres";
import type { PartitionKey } from "../offsets.ts";
import { OFFSETS_TABLE } from "./tables.ts";

/**
 * Moves the partition's stored offset. The statement is sent at once, before this returns, so a
 * caller can rely on its place in the connection's order (writeChunk sends it before its savepoint).
 */
export function saveNextOffset(tx: TransactionSql, key: PartitionKey, next: bigint): Promise<unknown> {
  return tx`
    update ${tx(OFFSETS_TABLE)} set next_offset = ${next.toString()}::bigint, updated_at = now()
    where consumer_group = ${key.group} and topic = ${key.topic} and partition = ${key.partition}`.execute();
}
