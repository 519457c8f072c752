/**
 * The value schemas settings share: each turns the text a user typed into a value, or says in
 * the words every worker uses what is wrong with it. A setting's own schema is built from these.
 */
import { z } from "zod";

/**
 * A whole number read from text, between `min` and `max` when given, with the messages every
 * worker uses ("must be a whole number of months", "must not be negative", "must be at most 60000").
 */
export function wholeNumber(options: { min?: number; max?: number; unit?: string } = {}) {
  const what =
    options.unit === undefined ? "must be a whole number" : `must be a whole number of ${options.unit}`;
  let schema = z.coerce.number({ error: what }).int(what);
  const { min, max } = options;
  if (min !== undefined)
    schema = schema.min(min, min === 0 ? "must not be negative" : `must be at least ${min}`);
  if (max !== undefined) schema = schema.max(max, `must be at most ${max}`);
  return schema;
}

/**
 * A TCP port. With `zero`, 0 is allowed too and means what `zero` says (e.g. "picks a free one",
 * which tests use).
 */
export function port(options: { zero?: string } = {}) {
  const what =
    options.zero === undefined
      ? "expected a TCP port 1-65535"
      : `expected a TCP port 0-65535 (0 ${options.zero})`;
  return z.coerce
    .number({ error: what })
    .int(what)
    .min(options.zero === undefined ? 1 : 0, what)
    .max(65_535, what);
}

const FRACTION = "expected a fraction between 0 and 1, e.g. 0.02";

/** A fraction between 0 and 1 (0.02: two in a hundred). */
export const fraction = z.coerce.number({ error: FRACTION }).min(0, FRACTION).max(1, FRACTION);

const SWITCH_TEXT: Readonly<Record<string, boolean>> = {
  true: true,
  "1": true,
  yes: true,
  on: true,
  false: false,
  "0": false,
  no: false,
  off: false,
};

/** The schema of a switch: true/false (or 1/0, yes/no, on/off) in its variable; present or not as a flag. */
export const switchSchema = z
  .string()
  .refine((text) => SWITCH_TEXT[text.trim().toLowerCase()] !== undefined, "expected true or false")
  .transform((text) => SWITCH_TEXT[text.trim().toLowerCase()] === true);

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

/** A duration as a person writes it: the largest unit that divides it (300000 -> "5m"). */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = DURATION_UNITS_MS[unit] as number;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A duration in milliseconds, written 500ms, 1s, 10m, 1h or 1d (a bare number is milliseconds),
 * at least `min` (default 1ms) and at most `max` when given; `why` explains the maximum.
 */
export function duration(options: { min?: number; max?: number; why?: string } = {}) {
  const min = options.min ?? 1;
  let schema = z
    .number({ error: "expected a duration such as 500ms, 1s, 10m, 1h or 1d" })
    .min(min, `must be at least ${formatDuration(min)}`);
  if (options.max !== undefined) {
    const why = options.why === undefined ? "" : `: ${options.why}`;
    schema = schema.max(options.max, `must be at most ${formatDuration(options.max)}${why}`);
  }
  return z
    .string()
    .transform((text) => parseDurationMs(text) ?? Number.NaN)
    .pipe(schema);
}
