import { type Figure, inSection } from "./report.ts";

/** A reading a minute, for a year (365 days). */
export const READINGS_PER_STATION_YEAR = 60 * 24 * 365;
/** Month partitions a city table gets per year (packages/weather-db: one per city and month). */
export const MONTH_PARTITIONS_PER_CITY_YEAR = 12;
const STATIONS = 1_000;
const capacity = inSection("Capacity");

/**
 * The capacity model, from the figures this run measured (per run, then the median): the drain of
 * all six partitions (the sink scenario with the wide catalog; the two-station one without it).
 * - rows per second per core: 1 / CPU time per row, of the sink's node process and of its
 *   PostgreSQL backends, measured while draining;
 * - stations at one reading a minute that one sink keeps up with: its drain rate x 60 (flat out,
 *   no headroom);
 * - per 1,000 stations: a year's rows, their size on disk (bytes per row measured with
 *   pg_total_relation_size on the drained table, indexes included), and the cores they keep busy
 *   at the CPU per row of the 2,000/s run (small transactions, as a trickle of readings gets).
 */
export function capacityFigures(figures: readonly Figure[]): Figure[] {
  const runsOf = (name: string) =>
    (
      figures.find((f) => f.key === `sink.wide.${name}`) ??
      figures.find((f) => f.key === `sink.builtin.${name}`)
    )?.runs;
  const cpuNode = runsOf("cpuNode");
  const cpuBackends = runsOf("cpuBackends");
  const rate = runsOf("pgSink");
  const bytesPerRow = runsOf("bytesPerRow");
  if (cpuNode === undefined || cpuBackends === undefined || rate === undefined || bytesPerRow === undefined)
    return [];
  const perRun = (values: readonly number[], fn: (value: number, i: number) => number) => values.map(fn);
  const rowsPerSecond = (STATIONS * READINGS_PER_STATION_YEAR) / (365 * 24 * 3600);
  // A trickle of readings is stored in small transactions: their cost per row is the 2,000/s run's
  // (100 rows per transaction), when it ran, rather than a drain's (thousands).
  const steady = (name: string) => figures.find((f) => f.key === `latency.steady.${name}`)?.runs;
  const trickleNode = steady("cpuNode") ?? cpuNode;
  const trickleBackends = steady("cpuBackends") ?? cpuBackends;
  const trickle = steady("cpuNode") === undefined ? "drain" : "2,000/s";
  return [
    capacity(
      "capacity.rowsPerSinkCore",
      "rows/s per core of pg-sink's node process (1 / its CPU per row, draining 6 partitions)",
      "/s",
      perRun(cpuNode, (micros) => 1e6 / micros),
    ),
    capacity(
      "capacity.rowsPerPostgresCore",
      "rows/s per core of PostgreSQL (1 / its backends' CPU per row)",
      "/s",
      perRun(cpuBackends, (micros) => 1e6 / micros),
    ),
    capacity(
      "capacity.stationsPerSink",
      "stations at one reading a minute one pg-sink keeps up with (drain rate x 60, flat out)",
      "",
      perRun(rate, (r) => r * 60),
    ),
    capacity(
      "capacity.rowsPerYear",
      `rows a year of ${STATIONS.toLocaleString("en-US")} stations at one reading a minute`,
      "",
      [STATIONS * READINGS_PER_STATION_YEAR],
    ),
    capacity(
      "capacity.diskPerYear",
      `  their size in PostgreSQL, indexes included (bytes per row as measured)`,
      "bytes",
      perRun(bytesPerRow, (bytes) => bytes * STATIONS * READINGS_PER_STATION_YEAR),
    ),
    capacity(
      "capacity.sinkCores",
      `  pg-sink cores they keep busy (${rowsPerSecond.toFixed(1)} rows/s at the ${trickle} run's CPU per row)`,
      "cores",
      perRun(trickleNode, (micros) => (micros * rowsPerSecond) / 1e6),
    ),
    capacity(
      "capacity.postgresCores",
      "  PostgreSQL cores they keep busy",
      "cores",
      perRun(trickleBackends, (micros) => (micros * rowsPerSecond) / 1e6),
    ),
    capacity(
      "capacity.stationsPerSinkCore",
      `stations at one reading a minute per core of pg-sink, at the ${trickle} run's CPU per row`,
      "",
      perRun(trickleNode, (micros) => (1e6 / micros) * 60),
    ),
  ];
}
