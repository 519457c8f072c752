/**
 * One metrics scheme for every worker that serves /metrics. Our own metrics are named
 * `weather_<worker>_<what>_<unit>` (Prometheus's conventions: a namespace, the worker, a unit or
 * `_total` last); Node's process metrics keep prom-client's standard names (`process_cpu_seconds_total`,
 * `nodejs_heap_size_used_bytes`, ...) so standard Node dashboards work unchanged; and every worker
 * serves `weather_<worker>_build_info`. A worker declares its metrics once, as data: the registry,
 * the README table and every reader of the names (the dashboard, tests) derive from that declaration.
 */
import { readFileSync } from "node:fs";
import { documentSection, markdownTable } from "@weather/settings";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The product's namespace, the first word of every metric of ours. */
export const METRICS_NAMESPACE = "weather";

interface Declared<L extends string> {
  /** The name after `weather_<worker>_`, its unit (or `_total`) last. */
  readonly name: string;
  readonly help: string;
  readonly labels?: readonly L[];
}
export interface CounterDeclaration<L extends string> extends Declared<L> {
  readonly type: "counter";
}
export interface GaugeDeclaration<L extends string> extends Declared<L> {
  readonly type: "gauge";
}
export interface HistogramDeclaration<L extends string> extends Declared<L> {
  readonly type: "histogram";
  readonly buckets: readonly number[];
}
export type MetricDeclaration<L extends string = string> =
  | CounterDeclaration<L>
  | GaugeDeclaration<L>
  | HistogramDeclaration<L>;

/** The prom-client metric a declaration makes. */
type MetricOf<D> = D extends { readonly type: infer T; readonly labels: readonly (infer L extends string)[] }
  ? T extends "counter"
    ? Counter<L>
    : T extends "gauge"
      ? Gauge<L>
      : Histogram<L>
  : D extends { readonly type: infer T }
    ? T extends "counter"
      ? Counter
      : T extends "gauge"
        ? Gauge
        : Histogram
    : never;

/** A worker's metrics as declared, with their full names. */
export interface WorkerMetricsDefinition<
  L extends string = string,
  M extends Record<string, MetricDeclaration<L>> = Record<string, MetricDeclaration<L>>,
> {
  /** The worker's word in the names: `weather_<worker>_`. */
  readonly worker: string;
  /** Every label, with the values it takes and what bounds them (the README shows this). */
  readonly labels: Readonly<Record<L, string>>;
  /** The declarations, each with its full name (`weather_<worker>_<name>`). */
  readonly metrics: { readonly [K in keyof M]: M[K] & { readonly name: string } };
  /** `weather_<worker>_build_info`: 1, labelled with the version and Node's. */
  readonly buildInfo: string;
}

const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/** What a histogram's name ends in: a base unit, or what it counts. */
const UNITS = ["seconds", "bytes", "messages", "rows"] as const;

/** What is wrong with a metric's full name and labels, if anything. */
function problemOf(name: string, declared: MetricDeclaration, labels: Readonly<Record<string, string>>) {
  if (!NAME.test(name)) return "is not snake case";
  if (declared.type === "counter" && !name.endsWith("_total")) return "is a counter: its name ends in _total";
  if (declared.type === "histogram" && !UNITS.some((unit) => name.endsWith(`_${unit}`))) {
    return `is a histogram: its name ends in its unit, one of _${UNITS.join(", _")}`;
  }
  const undeclared = declared.labels?.find((label) => !Object.hasOwn(labels, label));
  return undeclared === undefined ? undefined : `uses the undeclared label ${undeclared}`;
}

/**
 * Declares a worker's metrics. Names are checked here, once, when the module loads: snake case,
 * counters ending in `_total`, histograms in their unit, only declared labels.
 */
export function defineWorkerMetrics<
  const L extends string,
  const M extends Record<string, MetricDeclaration<NoInfer<L>>>,
>(definition: {
  readonly worker: string;
  readonly labels: Readonly<Record<L, string>>;
  readonly metrics: M;
}): WorkerMetricsDefinition<L, M> {
  const prefix = `${METRICS_NAMESPACE}_${definition.worker}_`;
  const metrics: Record<string, MetricDeclaration<L>> = {};
  for (const [key, declared] of Object.entries<MetricDeclaration<L>>(definition.metrics)) {
    const name = `${prefix}${declared.name}`;
    const problem = problemOf(name, declared, definition.labels);
    if (problem !== undefined) throw new Error(`metric ${name} ${problem}`);
    metrics[key] = { ...declared, name };
  }
  return Object.freeze({
    worker: definition.worker,
    labels: definition.labels,
    metrics: Object.freeze(metrics) as WorkerMetricsDefinition<L, M>["metrics"],
    buildInfo: `${prefix}build_info`,
  });
}

/** The metrics a worker updates, by the keys it declared them under, and the registry serving them. */
export type WorkerMetrics<D extends WorkerMetricsDefinition> = {
  readonly [K in keyof D["metrics"]]: MetricOf<D["metrics"][K]>;
} & { readonly registry: Registry };

/**
 * A registry of the worker's own (never prom-client's global one, so several workers in one
 * process, as in tests, do not collide) with Node's default metrics under their standard names,
 * the build_info gauge, and the declared metrics.
 * @param version the worker's version, e.g. packageVersion(new URL("../package.json", import.meta.url))
 */
export function createWorkerMetrics<D extends WorkerMetricsDefinition>(
  definition: D,
  version: string,
): WorkerMetrics<D> {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: definition.buildInfo,
    help: buildInfoHelp(definition),
    labelNames: ["version", "node_version"],
    registers,
  }).set({ version, node_version: process.version }, 1);
  const made: Record<string, unknown> = { registry };
  for (const [key, declared] of Object.entries<MetricDeclaration>(definition.metrics)) {
    const options = {
      name: declared.name,
      help: declared.help,
      labelNames: declared.labels ?? [],
      registers,
    };
    made[key] =
      declared.type === "counter"
        ? new Counter(options)
        : declared.type === "gauge"
          ? new Gauge(options)
          : new Histogram({ ...options, buckets: [...declared.buckets] });
  }
  return made as WorkerMetrics<D>;
}

function buildInfoHelp(definition: WorkerMetricsDefinition): string {
  return `Always 1: the ${definition.worker}'s version and the Node.js version it runs on`;
}

/** The `version` of a package.json: the worker's own, for its build_info. */
export function packageVersion(packageJson: URL): string {
  const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown };
  return typeof version === "string" ? version : "unknown";
}

/** The Markdown the README shows for a worker's metrics: every metric, then every label's bound. */
export function metricsMarkdown(definition: WorkerMetricsDefinition): string {
  const code = (text: string) => `\`${text}\``;
  const metrics = markdownTable(
    ["Metric", "Type", "Labels", "Meaning"],
    [
      ...Object.values<MetricDeclaration>(definition.metrics).map((metric) => [
        code(metric.name),
        metric.type,
        (metric.labels ?? []).map(code).join(", "),
        metric.help,
      ]),
      [
        code(definition.buildInfo),
        "gauge",
        `${code("version")}, ${code("node_version")}`,
        buildInfoHelp(definition),
      ],
    ],
  );
  const labels = markdownTable(
    ["Label", "Its values, and what bounds them"],
    Object.entries<string>(definition.labels).map(([label, values]) => [code(label), values]),
  );
  return [
    metrics,
    "Besides these, Node's process metrics under prom-client's standard names (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, `nodejs_eventloop_lag_seconds`, ...), so standard Node.js dashboards read them unchanged.",
    labels,
  ].join("\n\n");
}

/**
 * Regenerates the metrics section of a worker's README (`pnpm docs:settings`); with `check`, only
 * says whether it is current. @returns whether the file was current.
 */
export function documentMetrics(readme: URL, definition: WorkerMetricsDefinition, check = false): boolean {
  return documentSection(readme, "metrics", metricsMarkdown(definition), check);
}
