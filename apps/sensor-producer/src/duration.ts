const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "250ms", "1s", "10m", "1.5h", "1d"; a bare number is milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? "ms"] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
