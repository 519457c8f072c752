import { type Figure, formatValue, markdownTable, renderTable } from "./report.ts";

/** One table per section, in the order the sections first appear. */
export function renderSections(figures: readonly Figure[]): string {
  const sections = [...new Set(figures.map((f) => f.section))];
  return sections
    .map((section) => `${section}\n\n${renderTable(figures.filter((f) => f.section === section))}`)
    .join("\n\n");
}

type Lookup = (key: string) => string;

/**
 * What limits a figure with an aim, in the figures measured beside it in the same run: the
 * measured reason the closing table prints next to "met" or "MISSED". Undefined when nothing in
 * the run explains it (e.g. its breakdown was not traced).
 */
const EXPLAIN: readonly [RegExp, (match: RegExpExecArray, v: Lookup) => string][] = [
  [
    /^latency\.(steady|half)\.(p50|p99)$/,
    ([, run, p], v) => {
      const key = `latency.${run}`;
      const steps = [
        ["Kafka", "kafka"],
        ["hand-over", "handOver"],
        ["decode+encode", "prepare"],
        ["statements", "statements"],
        ["COMMIT", "commit"],
        ["NOTIFY", "visible"],
      ]
        .map(([name, phase]) => `${name} ${v(`${key}.phase.${phase}.${p}`)}`)
        .join(", ");
      return (
        `Kafka's floor ${v(`${key}.floor.${p}`)} (EndToEndLatency, whole ms rounded down; average ${v(`${key}.floor.avg`)}), ` +
        `plain kafkajs consumer ${v(`${key}.kafkaOnly.${p}`)}; ` +
        `pg-sink's steps, each at ${p}: ${steps}; ${v(`${key}.tx.roundTrips`)} round trips per transaction`
      );
    },
  ],
  [
    /^memory\.(builtin|wide)\.sinkDrain$|^memory\.(steady)\.sinkSteady$/,
    ([, drain, steady], v) => {
      const key = drain === undefined ? `memory.${steady}.sink` : `memory.${drain}.drain`;
      const fetch =
        drain === undefined
          ? ""
          : `; Fetch answers up to ${v(`${key}.fetchBytesMax`)}, up to ${v(`${key}.batchMessagesMax`)} messages in one partition's batch`;
      return (
        `once started ${v(`${key}.startRss`)}; at the peak: V8 heap ${v(`${key}.heapTotal`)} (young generation ${v(`${key}.newSpace`)}, old ${v(`${key}.oldSpace`)}; ` +
        `live after a full GC ${v(`${key}.live`)}), outside the heap ${v(`${key}.external`)}, node's binary and libraries ${v(`${key}.rssFile`)}, ` +
        `other ${v(`${key}.anonRest`)}${fetch}`
      );
    },
  ],
  [
    /^sink\.(builtin|wide)\.ofRawCopy$/,
    ([, scenario], v) => {
      const key = `sink.${scenario}`;
      return (
        `CPU per row: pg-sink's node process ${v(`${key}.cpuNode`)} and its PostgreSQL backends ${v(`${key}.cpuBackends`)}, ` +
        `raw binary COPY's backend ${v(`${key}.cpuCopyBinary`)}; ${v(`${key}.drain.tx.rows`)} rows per transaction, ` +
        `${v(`${key}.drain.tx.ms`)} each (COMMIT ${v(`${key}.drain.tx.commitMs`)}); the sink's event loop delayed ${v(`memory.${scenario}.drain.loopDelayP99`)} at p99`
      );
    },
  ],
  [
    /^sink\.builtin\.timesInsertPerMessage$/,
    (_, v) => `one INSERT per message: ${v("sink.builtin.insertPerMessage")}, a commit per row`,
  ],
  [
    /^cluster\.scale(\d)$/,
    ([, n], v) =>
      `1 instance ${v("cluster.drain1")} (its quota used up in ${v("cluster.throttled1")} of periods, ${v("cluster.cpuPerRow1.sinks")} per row), ` +
      `${n}: ${v(`cluster.drain${n}`)} (${v(`cluster.throttled${n}`)}, ${v(`cluster.cpuPerRow${n}.sinks`)} per row); cores used at ${n}: sinks ${v(`cluster.cores${n}.sinks`)}, ` +
      `PostgreSQL ${v(`cluster.cores${n}.backends`)}, brokers ${v(`cluster.cores${n}.brokers`)} (idle: ${v("cluster.brokersIdle")})`,
  ],
];

export function explain(figure: Figure, figures: readonly Figure[]): string | undefined {
  const byKey = new Map(figures.map((f) => [f.key, f]));
  const v: Lookup = (key) => {
    const f = byKey.get(key);
    return f === undefined ? "n/a" : formatValue(f.median, f.unit);
  };
  for (const [pattern, describe] of EXPLAIN) {
    const match = pattern.exec(figure.key);
    if (match !== null) return describe(match, v);
  }
  return undefined;
}

/** The closing table: every figure with an aim, met or missed, and what the run measured behind it. */
export function renderAims(figures: readonly Figure[]): string {
  const rows = figures
    .filter((f) => f.aim !== undefined)
    .map((f) => {
      const aim = f.aim as NonNullable<Figure["aim"]>;
      return [
        f.label,
        formatValue(f.median, f.unit),
        `${aim.op} ${formatValue(aim.value, f.unit)}`,
        f.met ? "met" : "MISSED",
        explain(f, figures) ?? "",
      ];
    });
  return markdownTable(["Figure", "Measured", "Aim", "", "What limits it (measured in this run)"], rows);
}
