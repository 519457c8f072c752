/**
 * Calendar months in UTC, the unit of the city tables' RANGE partitions. A month is a whole
 * number (year * 12 + month index) so that adding, comparing and ranging are plain arithmetic.
 */
export type Month = number & { readonly __month: unique symbol };

export function monthOf(date: Date): Month {
  return (date.getUTCFullYear() * 12 + date.getUTCMonth()) as Month;
}

export function addMonths(month: Month, count: number): Month {
  return (month + count) as Month;
}

/** "2026-01": how months are shown to people. */
export function formatMonth(month: Month): string {
  const year = Math.floor(month / 12);
  return `${String(year).padStart(4, "0")}-${String((month % 12) + 1).padStart(2, "0")}`;
}

/** Parses "2026-01" (as formatMonth writes it and SQL's to_char(…, 'YYYY-MM') does). */
export function parseMonth(text: string): Month {
  const match = /^(\d{4})-(\d{2})$/.exec(text);
  const month = Number(match?.[2]);
  if (match === null || month < 1 || month > 12) throw new Error(`not a month: "${text}" (expected YYYY-MM)`);
  return (Number(match[1]) * 12 + month - 1) as Month;
}

/** The month's first instant, as a timestamptz literal no session time zone can misread. */
export function monthStartLiteral(month: Month): string {
  return `${formatMonth(month)}-01 00:00:00+00`;
}

/** The month's first instant as a Date. */
export function monthStart(month: Month): Date {
  return new Date(Date.UTC(Math.floor(month / 12), month % 12, 1));
}

/** `from` to `to`, both included, in order. */
export function monthsBetween(from: Month, to: Month): Month[] {
  const months: Month[] = [];
  for (let m = from; m <= to; m++) months.push(m as Month);
  return months;
}

/**
 * Months as people read a list of them ("2026-01" each): consecutive runs collapsed, e.g.
 * "2025-11..2026-02, 2026-05".
 */
export function describeMonths(months: readonly string[]): string {
  const sorted = [...new Set(months.map(parseMonth))].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    const first = sorted[i] as Month;
    const last = sorted[j] as Month;
    runs.push(first === last ? formatMonth(first) : `${formatMonth(first)}..${formatMonth(last)}`);
    i = j + 1;
  }
  return runs.join(", ");
}

/** How many months to keep created around now, and how long to keep them. */
export interface MonthWindow {
  /** Months before the current one that bootstrap creates (a backfill of that period lands in them). */
  readonly monthsBack: number;
  /** Months after the current one that bootstrap and the maintenance keep created. */
  readonly monthsAhead: number;
  /**
   * The maintenance drops month partitions older than the current month minus this many months
   * (it keeps the current month and the N before it); null keeps every month.
   */
  readonly retentionMonths: number | null;
}

export const DEFAULT_MONTH_WINDOW: MonthWindow = Object.freeze({
  monthsBack: 12,
  monthsAhead: 3,
  retentionMonths: null,
});

/** The oldest month retention keeps, or undefined when it keeps everything. */
export function oldestKept(now: Date, retentionMonths: number | null): Month | undefined {
  return retentionMonths === null ? undefined : addMonths(monthOf(now), -retentionMonths);
}

/**
 * The months bootstrap creates: from monthsBack before the current month (but never one retention
 * would drop at once) to monthsAhead after it.
 */
export function bootstrapMonths(now: Date, window: MonthWindow): Month[] {
  const current = monthOf(now);
  const kept = oldestKept(now, window.retentionMonths);
  const back = addMonths(current, -window.monthsBack);
  return monthsBetween(
    kept !== undefined && kept > back ? kept : back,
    addMonths(current, window.monthsAhead),
  );
}
