import postgres from "postgres";

// For preload.int.test.ts: transactions shaped like pg-sink's writeChunk (BEGIN; the offsets row
// locked with a lookup beside it; offset update, savepoint and COPY sent together; COMMIT), run
// under the tracer. Prints nothing; the trace file is the output.
const sql = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
await sql`create temp table consumer_offsets (consumer_group text, topic text, partition int, next_offset bigint,
  primary key (consumer_group, topic, partition))`;
await sql`create temp table readings (n int)`;
const chunks: readonly { partition: number; next: number }[] = [
  { partition: 3, next: 100 },
  { partition: 3, next: 200 },
  { partition: 4, next: 50 },
];
for (const { partition, next } of chunks) {
  await sql.begin(async (tx) => {
    const created =
      tx`insert into consumer_offsets values ('g', 't', ${partition}, 0) on conflict do nothing`.execute();
    const locked =
      tx`select next_offset from consumer_offsets where consumer_group = 'g' and partition = ${partition} for update`.execute();
    await Promise.all([created, locked, tx`select 1`.execute()]);
    const saved =
      tx`update consumer_offsets set next_offset = ${String(next)}::bigint where consumer_group = ${"g"} and topic = ${"t"} and partition = ${partition}`.execute();
    const savepoint = tx`savepoint s`.execute();
    const writable = await tx`copy readings (n) from stdin`.writable();
    writable.end("1\n2\n3\n");
    await new Promise((resolve) => writable.on("finish", resolve));
    await Promise.all([saved, savepoint]);
  });
}
await sql.end();
