// @ts-check
/**
 * The page's charts, drawn by uPlot (loaded as a global by index.html). Each chart fills its
 * container's width and follows it when the window (or phone) turns.
 */

/** @typedef {import("uplot")} Plot */
/** @typedef {import("uplot").Options} PlotOptions */
/** @typedef {import("uplot").AlignedData} PlotData */

const HEIGHT = 190;

/**
 * A chart that keeps to the width of `container`.
 * @param {HTMLElement} container
 * @param {(width: number) => PlotOptions} optionsFor
 * @param {PlotData} data
 */
function fittedChart(container, optionsFor, data) {
  const width = () => Math.max(200, Math.floor(container.clientWidth));
  const plot = new uPlot(optionsFor(width()), data, container);
  let last = width();
  new ResizeObserver(() => {
    const now = width();
    if (now !== last) {
      last = now;
      plot.setSize({ width: now, height: HEIGHT });
    }
  }).observe(container);
  return plot;
}

/**
 * Buckets on the full grid from `from` to `to`, with nulls where there were no readings, so the
 * lines break over gaps instead of bridging them.
 * @param {{ time: number[], columns: (number | null)[][] }} series
 * @param {number} from seconds
 * @param {number} to seconds
 * @param {number} step seconds
 * @returns {PlotData}
 */
export function onGrid(series, from, to, step) {
  /** @type {number[]} */
  const time = [];
  for (let t = from; t < to; t += step) time.push(t);
  const index = new Map(series.time.map((t, i) => [t, i]));
  const columns = series.columns.map((column) =>
    time.map((t) => {
      const i = index.get(t);
      return i === undefined ? null : (column[i] ?? null);
    }),
  );
  return [time, ...columns];
}

/**
 * A city's temperature (mean, with the min-max band) and mean wind over a window, on the city's clock.
 * @param {HTMLElement} container
 * @param {string} timeZone
 * @param {string} title
 */
export function weatherChart(container, timeZone, title) {
  /** @type {[number, number]} */
  let range = [0, 1];
  /** @type {PlotData} */
  const empty = [[], [], [], [], []];
  const oneDecimal = (/** @type {Plot} */ _u, /** @type {number | null} */ v) =>
    v == null ? "—" : v.toFixed(1);
  const plot = fittedChart(
    container,
    (width) => ({
      title,
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => range },
        t: { auto: true },
        w: { auto: true, range: (_u, _min, max) => [0, Math.max(10, Math.ceil(max))] },
      },
      series: [
        {},
        { label: "°C mean", scale: "t", stroke: "#d9534f", width: 2, value: oneDecimal },
        { label: "min", scale: "t", stroke: "#f0a8a6", width: 1, value: oneDecimal },
        { label: "max", scale: "t", stroke: "#f0a8a6", width: 1, value: oneDecimal },
        { label: "wind km/h", scale: "w", stroke: "#2f6fde", width: 1.5, value: oneDecimal },
      ],
      bands: [{ series: [3, 2], fill: "rgba(217, 83, 79, 0.12)" }],
      axes: [{}, { scale: "t", size: 44 }, { scale: "w", side: 1, size: 40, grid: { show: false } }],
    }),
    empty,
  );
  return {
    /**
     * @param {PlotData} data
     * @param {number} from seconds
     * @param {number} to seconds
     */
    update(data, from, to) {
      range = [from, to];
      plot.setData(data);
    },
  };
}

/**
 * Rows stored per second over the last minutes, in UTC.
 * @param {HTMLElement} container
 */
export function rateChart(container) {
  const plot = fittedChart(
    container,
    (width) => ({
      width,
      height: 150,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "UTC"),
      cursor: { drag: { x: false, y: false } },
      legend: { show: false },
      scales: { x: { time: true }, y: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [{}, { label: "rows/s", stroke: "#1f8a4c", fill: "rgba(31, 138, 76, 0.12)", width: 1.5 }],
      axes: [
        {
          space: 70,
          // Whole seconds and up: refreshes come every second or two, finer ticks only repeat labels.
          incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900],
          values: (_u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, 19)),
        },
        { size: 50 },
      ],
    }),
    [[], []],
  );
  return {
    /** @param {readonly (readonly [number, number])[]} history */
    update(history) {
      plot.setData([history.map(([t]) => t), history.map(([, v]) => v)]);
    },
  };
}
