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
  /** The table it is printed in ("Figures" unless told). */
  readonly section: string;
}

export function figure(
  key: string,
  label: string,
  unit: string,
  runs: readonly number[],
  aim?: Figure["aim"],
  section = "Figures",
): Figure {
  const m = median(runs);
  if (aim === undefined) return { key, label, unit, runs, median: m, section };
  const met = aim.op === ">=" ? m >= aim.value : m <= aim.value;
  return { key, label, unit, runs, median: m, aim, met, section };
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "x") return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
  if (unit === "%") return `${(value * 100).toFixed(0)} %`;
  if (unit === "MiB") {
    const mib = value / 1024 / 1024;
    return `${mib.toFixed(mib < 10 ? 2 : 0)} MiB`;
  }
  if (unit === "GiB") return `${(value / 1024 ** 3).toFixed(1)} GiB`;
  if (unit === "")
    return Number.isInteger(value) || value >= 100
      ? Math.round(value).toLocaleString("en-US")
      : value.toFixed(1);
  if (unit === "s") return `${value.toFixed(1)} s`;
  if (unit === "ms") return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
  if (unit === "µs") return `${value.toFixed(2)} µs`;
  if (unit === "cores") return `${value < 0.01 && value > 0 ? value.toPrecision(2) : value.toFixed(2)} cores`;
  if (unit === "bytes") {
    const [size, name] = [
      [1024 ** 4, "TiB"],
      [1024 ** 3, "GiB"],
      [1024 ** 2, "MiB"],
      [1024, "KiB"],
    ].find(([size]) => value >= (size as number)) ?? [1, "B"];
    return `${(value / (size as number)).toFixed(1)} ${name}`;
  }
  if (unit === "B") return `${Math.round(value).toLocaleString("en-US")} B`;
  return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
}

/** figure() for one table: the same arguments, the section given once. */
export function inSection(section: string) {
  return (key: string, label: string, unit: string, runs: readonly number[], aim?: Figure["aim"]): Figure =>
    figure(key, label, unit, runs, aim, section);
}

function formatAim(f: Figure): string {
  if (f.aim === undefined) return "";
  const target = formatValue(f.aim.value, f.unit);
  return `${f.aim.op} ${target} ${f.met ? "met" : "MISSED"}`;
}

/** A plain-text table, also valid Markdown: a header row, a rule, the rows, columns padded. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Figure, median, every run, aim. */
export function renderTable(figures: readonly Figure[]): string {
  return markdownTable(
    ["Figure", "Median", "Runs", "Aim"],
    figures.map((f) => [
      f.label,
      formatValue(f.median, f.unit),
      f.runs.map((run) => formatValue(run, f.unit)).join(" / "),
      formatAim(f),
    ]),
  );
}
