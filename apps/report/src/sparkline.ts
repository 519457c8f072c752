const BARS = "▁▂▃▄▅▆▇█";

/**
 * A one-line chart of a series, scaled between its own minimum and maximum. A flat series draws
 * as a flat line at mid height rather than dividing by zero.
 */
export function sparkline(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "";
  const min = Math.min(...finite);
  const span = Math.max(...finite) - min;
  return values
    .map((value) => {
      if (!Number.isFinite(value)) return " ";
      const level = span === 0 ? 3 : Math.round(((value - min) / span) * (BARS.length - 1));
      return BARS[level];
    })
    .join("");
}
