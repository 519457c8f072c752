import { describeMonths } from "@weather/db";
import type { DatabaseOutcome } from "./database.ts";
import type { TopicOutcome } from "./ensure-topics.ts";
import type { SchemasOutcome } from "./schemas.ts";

/** Everything one run did or found, step by step. */
export interface BootstrapOutcome {
  readonly database: DatabaseOutcome;
  readonly topics: readonly TopicOutcome[];
  readonly schemas: SchemasOutcome;
}

/** The same, flattened into what an operator asks: what is new, what was there, what is wrong. */
export interface Summary {
  readonly created: readonly string[];
  readonly found: readonly string[];
  /** Existing objects that contradict the configuration; a non-empty list fails the run. */
  readonly conflicts: readonly string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function summarize(outcome: BootstrapOutcome): Summary {
  const created: string[] = [];
  const found: string[] = [];
  const conflicts: string[] = [];
  const { database, topics, schemas } = outcome;

  (database.databaseCreated ? created : found).push(`database ${database.database}`);
  if (database.migrations.applied > 0)
    created.push(`${plural(database.migrations.applied, "migration")} applied`);
  else found.push(`schema up to date (${plural(database.migrations.total, "migration")})`);
  for (const table of database.partitions.created) created.push(`table ${table}`);
  for (const table of database.partitions.existing) found.push(`table ${table}`);
  for (const { table, created: months, existing, movedRows } of database.months) {
    if (months.length > 0) {
      const moved = movedRows > 0 ? ` (${plural(movedRows, "row")} moved out of its default partition)` : "";
      created.push(`months ${describeMonths(months)} of ${table}${moved}`);
    }
    if (existing.length > 0) found.push(`months ${describeMonths(existing)} of ${table}`);
  }
  if (database.sinkRole) {
    // Roles belong to the server, grants to this database: new here if either is new.
    const { role, tables, newlyGranted } = database.sinkRole;
    (database.sinkRole.created || newlyGranted.length > 0 ? created : found).push(
      `role ${role} (select/insert on the readings and re-sends, select/insert/update on offsets; ${plural(tables.length, "table")})`,
    );
  }
  if (database.readerRole) {
    const { role, tables, newlyGranted } = database.readerRole;
    (database.readerRole.created || newlyGranted.length > 0 ? created : found).push(
      `role ${role} (read-only: select on the readings, offsets and re-sends; ${plural(tables.length, "table")})`,
    );
  }

  for (const topic of topics) {
    const described = `topic ${topic.topic} (${plural(topic.partitions, "partition")}, replication ${topic.replicationFactor})`;
    if (topic.status === "created") created.push(described);
    else if (topic.status === "found") found.push(described);
    else {
      conflicts.push(
        `topic ${topic.topic} has ${plural(topic.partitions, "partition")} but READINGS_PARTITIONS is ${topic.expectedPartitions}: ` +
          `set READINGS_PARTITIONS=${topic.partitions}, or delete the topic and run bootstrap again (Kafka cannot remove partitions)`,
      );
    }
  }

  for (const subject of schemas.subjects) {
    const described = `${subject.format} schema id ${subject.id} under ${subject.subject}`;
    (subject.created ? created : found).push(described);
    if (subject.compatibilityBefore === "BACKWARD")
      found.push(`compatibility BACKWARD on ${subject.subject}`);
    else {
      created.push(
        `compatibility BACKWARD on ${subject.subject} (was ${subject.compatibilityBefore ?? "unset"})`,
      );
    }
  }

  return { created, found, conflicts };
}

/** A few lines for a human at a terminal; the JSON log line carries the same facts for machines. */
export function formatSummary(summary: Summary): string {
  const section = (title: string, items: readonly string[]) =>
    items.length === 0 ? [`${title}: nothing`] : [`${title}:`, ...items.map((item) => `  - ${item}`)];
  const verdict =
    summary.conflicts.length > 0
      ? `bootstrap: NOT READY, ${plural(summary.conflicts.length, "conflict")} with the configuration`
      : summary.created.length === 0
        ? "bootstrap: ready; nothing to do, everything was in place"
        : "bootstrap: ready";
  return [
    verdict,
    ...section("created", summary.created),
    ...section("found", summary.found),
    ...(summary.conflicts.length > 0 ? section("CONFLICTS", summary.conflicts) : []),
  ].join("\n");
}
