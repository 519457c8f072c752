import { setTimeout as sleep } from "node:timers/promises";
import { tail, type Worker } from "@weather/test-support";
import type { Admin } from "kafkajs";
import type { Sql } from "postgres";
import type { World } from "./world.ts";

export interface RowCounts {
  readonly rows: number;
  readonly distinct: number;
}

/** Rows in weather_readings (all city partitions) and distinct reading ids among them. */
export async function rowCounts(sql: Sql): Promise<RowCounts> {
  const [row] = await sql<RowCounts[]>`
    select count(*)::int as rows, count(distinct reading_id)::int as distinct from weather_readings`;
  return row ?? { rows: 0, distinct: 0 };
}

export async function storedReadingIds(sql: Sql): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select reading_id::text as id from weather_readings`;
  return rows.map((row) => row.id).sort();
}

/** Messages on a topic: the sum over its partitions of high minus low watermark. */
export async function messagesOn(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
}

/**
 * Whether the sink's offsets stored in PostgreSQL reach the topic's end on every partition: the
 * sink's own notion of "caught up", read from the outside.
 */
export async function isStoredToEnd(world: World): Promise<boolean> {
  const [watermarks, stored] = await Promise.all([
    world.admin.fetchTopicOffsets(world.topic),
    world.sql<{ partition: number; next: string }[]>`
      select partition, next_offset::text as next from consumer_offsets
      where consumer_group = ${world.groupId} and topic = ${world.topic}`,
  ]);
  const next = new Map(stored.map((row) => [row.partition, BigInt(row.next)]));
  return watermarks.every(
    (w) => BigInt(w.high) <= BigInt(w.low) || (next.get(w.partition) ?? -1n) >= BigInt(w.high),
  );
}

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`, and at once when `check` throws. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 200);
  }
}

/** Fails the wait at once, with its output, when a worker that should keep running has exited. */
export function assertRunning(worker: Worker, during: string): void {
  if (!worker.running()) {
    throw new Error(`${worker.app} exited during ${during}:\n${tail(worker.output())}`);
  }
}

/**
 * Waits until a running sink has stored the topic to its end (checked in PostgreSQL, transient
 * errors such as a broker still electing leaders are retried), failing early if the sink died.
 */
export async function waitUntilStoredToEnd(world: World, sink: Worker, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `the sink to store ${world.topic} to its end`,
    async () => {
      assertRunning(sink, "the drain");
      return isStoredToEnd(world).catch(() => false);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Set difference both ways, for "the stored ids are exactly the produced ids" with a useful failure. */
export function compareIds(
  produced: readonly string[],
  stored: readonly string[],
): { missing: string[]; unexpected: string[] } {
  const storedSet = new Set(stored);
  const producedSet = new Set(produced);
  return {
    missing: [...producedSet].filter((id) => !storedSet.has(id)),
    unexpected: [...storedSet].filter((id) => !producedSet.has(id)),
  };
}
