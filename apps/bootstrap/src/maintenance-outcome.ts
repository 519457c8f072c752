import { describeMonths, type MaintenanceResult } from "@weather/db";

/** What a maintenance run did, as an operator asks: what is new, what moved, what is gone. */
export interface MaintenanceSummary {
  readonly created: readonly string[];
  readonly moved: readonly string[];
  readonly dropped: readonly string[];
  /** Rows the retention would have dropped but the maintenance never deletes: for a human. */
  readonly kept: readonly string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function summarizeMaintenance(result: MaintenanceResult): MaintenanceSummary {
  const created: string[] = [];
  const moved: string[] = [];
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const city of result.cities) {
    if (city.created.length > 0) created.push(`months ${describeMonths(city.created)} of ${city.table}`);
    if (city.movedRows > 0)
      moved.push(`${plural(city.movedRows, "row")} of ${city.table} out of its default partition`);
    dropped.push(...city.dropped);
    if (city.oldRowsInDefault > 0) {
      kept.push(
        `${plural(city.oldRowsInDefault, "row")} older than ${result.oldestKept} in ${city.table}'s default partition ` +
          "(the maintenance drops whole months, never rows; delete them by hand if they should go)",
      );
    }
  }
  return { created, moved, dropped, kept };
}

/** A few lines for a human at a terminal; the JSON log line carries the same facts for machines. */
export function formatMaintenance(summary: MaintenanceSummary, result: MaintenanceResult): string {
  const nothing = [summary.created, summary.moved, summary.dropped].every((items) => items.length === 0);
  const retention =
    result.oldestKept === undefined ? "every month kept" : `months from ${result.oldestKept} kept`;
  const section = (title: string, items: readonly string[]) =>
    items.length === 0 ? [] : [`${title}:`, ...items.map((item) => `  - ${item}`)];
  return [
    `maintenance: done, ${plural(result.cities.length, "city table")}, ${retention}${nothing ? "; nothing to do, everything was in place" : ""}`,
    ...section("created", summary.created),
    ...section("moved", summary.moved),
    ...section("dropped", summary.dropped),
    ...section("left in place", summary.kept),
  ].join("\n");
}
