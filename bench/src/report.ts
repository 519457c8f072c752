import { median } from "./stats.ts";

/** One line of the results: a figure, its per-run values, their median, and the aim if any. */
export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly runs: readonly number[];
  readonly median: number;
  readonly aim?: { readonly op: ">=" | "<="; readonly value: number };
  readonly met?: boolean;
}

export function figure(
  key: string,
  label: string,
  unit: string,
  runs: readonly number[],
  aim?: Figure["aim"],
): Figure {
  const m = median(runs);
  if (aim === undefined) return { key, label, unit, runs, median: m };
  const met = aim.op === ">=" ? m >= aim.value : m <= aim.value;
  return { key, label, unit, runs, median: m, aim, met };
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "x") return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
  if (unit === "%") return `${(value * 100).toFixed(0)} %`;
  if (unit === "MiB") return `${(value / 1024 / 1024).toFixed(0)} MiB`;
  if (unit === "ms") return `${value.toFixed(0)} ms`;
  if (unit === "µs") return `${value.toFixed(2)} µs`;
  return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
}

function formatAim(f: Figure): string {
  if (f.aim === undefined) return "";
  const target = format(f.aim.value, f.unit);
  return `${f.aim.op} ${target} ${f.met ? "met" : "MISSED"}`;
}

/** A plain-text table: figure, median, every run, aim. Also valid Markdown. */
export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.label,
    format(f.median, f.unit),
    f.runs.map((run) => format(run, f.unit)).join(" / "),
    formatAim(f),
  ]);
  const header = ["Figure", "Median", "Runs", "Aim"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
