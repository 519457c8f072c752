/** One sample of Prometheus's text exposition format: a metric name, its labels and its value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/**
 * Parses the text format (version 0.0.4) that prom-client serves: comments and blank lines are
 * skipped, every other line is one sample. Lines that do not parse are skipped too, so one odd
 * metric cannot hide the others; what the dashboard needs is checked by name afterwards.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name = "", rawLabels, rawValue = ""] = match;
    const labels = rawLabels === undefined ? {} : parseLabels(rawLabels);
    if (labels === null) continue;
    samples.push({ name, labels, value: parseValue(rawValue) });
  }
  return samples;
}

function parseLabels(raw: string): Record<string, string> | null {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < raw.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(raw);
    if (!match) return raw.slice(start).trim() === "" ? labels : null;
    const [, key = "", value = ""] = match;
    labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

function parseValue(raw: string): number {
  if (raw === "+Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(raw);
}

/** The sum of every sample of `name` (over all label sets); undefined when there is none. */
export function sumOf(samples: readonly Sample[], name: string): number | undefined {
  const matching = samples.filter((s) => s.name === name);
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}
