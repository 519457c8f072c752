import type { PartitionAccount } from "./accounting.ts";
import type { VerifyResult } from "./verify.ts";

const COLUMNS = [
  ["partition", (a: PartitionAccount) => String(a.partition)],
  ["log start", (a: PartitionAccount) => String(a.low)],
  ["log end", (a: PartitionAccount) => String(a.high)],
  ["stored to", (a: PartitionAccount) => String(a.stored)],
  ["rows", (a: PartitionAccount) => String(a.rows)],
  ["dead letters", (a: PartitionAccount) => String(a.deadLetters)],
  ["re-sends", (a: PartitionAccount) => String(a.resends)],
  ["not in Kafka", (a: PartitionAccount) => String(a.notReturned)],
  ["gaps", (a: PartitionAccount) => String(a.gaps)],
  ["duplicates", (a: PartitionAccount) => String(a.duplicates)],
  ["lag", (a: PartitionAccount) => String(a.lag)],
] as const;

function sum(accounts: readonly PartitionAccount[], pick: (a: PartitionAccount) => number | bigint): string {
  return String(accounts.reduce((total, a) => total + BigInt(pick(a)), 0n));
}

const TOTALS: readonly ((accounts: readonly PartitionAccount[]) => string)[] = [
  () => "all",
  () => "",
  (all) => sum(all, (a) => a.high),
  (all) => sum(all, (a) => a.stored),
  (all) => sum(all, (a) => a.rows),
  (all) => sum(all, (a) => a.deadLetters),
  (all) => sum(all, (a) => a.resends),
  (all) => sum(all, (a) => a.notReturned),
  (all) => sum(all, (a) => a.gaps),
  (all) => sum(all, (a) => a.duplicates),
  (all) => sum(all, (a) => a.lag),
];

/** verify's result for people: a table per partition, what else it found, and the verdict. */
export function renderVerification(result: VerifyResult): string {
  const rows = [
    COLUMNS.map(([title]) => title),
    ...result.partitions.map((account) => COLUMNS.map(([, value]) => value(account))),
    TOTALS.map((total) => total(result.partitions)),
  ];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  const lines = [`topic ${result.topic}, consumer group ${result.group}`, ""];
  for (const row of rows) {
    lines.push(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join("  "),
    );
  }
  lines.push("");

  const problems: string[] = [];
  for (const a of result.partitions) {
    if (a.gaps > 0)
      problems.push(
        `partition ${a.partition}: ${a.gaps} offsets nothing accounts for (e.g. ${a.gapExamples.join(", ")})`,
      );
    if (a.duplicates > 0)
      problems.push(
        `partition ${a.partition}: ${a.duplicates} offsets accounted for twice (e.g. ${a.duplicateExamples.join(", ")})`,
      );
    if (a.expiredUnstored > 0n)
      problems.push(
        `partition ${a.partition}: ${a.expiredUnstored} records deleted by retention before the sink stored them`,
      );
    if (a.beyondStored > 0)
      problems.push(
        `partition ${a.partition}: ${a.beyondStored} rows or re-sends from offsets at or past the stored offset ${a.stored}`,
      );
  }
  if (result.idsStoredTwice > 0) problems.push(`${result.idsStoredTwice} reading ids stored more than once`);
  if (result.resendsOfNothing > 0)
    problems.push(`${result.resendsOfNothing} recorded re-sends of a reading that is not stored`);

  const notes: string[] = [];
  const repeated = result.partitions.reduce((n, a) => n + a.deadLettersRepeated, 0);
  if (repeated > 0)
    notes.push(`${repeated} offsets were dead-lettered more than once (dead letters are at least once)`);
  const expired = result.partitions.reduce((n, a) => n + a.beforeLogStart, 0);
  if (expired > 0) notes.push(`${expired} stored rows come from offsets Kafka no longer keeps (retention)`);
  if (result.deadLettersUnplaced > 0)
    notes.push(`${result.deadLettersUnplaced} dead letters name no source offset`);
  const kinds = Object.entries(result.deadLettersByKind).sort();
  if (kinds.length > 0)
    notes.push(`dead letters by kind: ${kinds.map(([kind, n]) => `${kind} ${n}`).join(", ")}`);
  for (const note of notes) lines.push(note);

  if (result.manifest.length > 0) {
    lines.push("", "against the run's manifest:");
    const width = Math.max(...result.manifest.map((c) => c.what.length));
    for (const c of result.manifest) {
      lines.push(`  ${c.ok ? "ok  " : "DIFF"} ${c.what.padEnd(width)}  sent ${c.sent}, found ${c.found}`);
      if (!c.ok) problems.push(`${c.what}: sent ${c.sent}, found ${c.found}`);
    }
  }
  lines.push("");
  if (result.holds) {
    lines.push("verified: every offset below the stored offsets is accounted for exactly once");
  } else {
    lines.push("NOT VERIFIED:");
    for (const problem of problems) lines.push(`  - ${problem}`);
  }
  return lines.join("\n");
}
