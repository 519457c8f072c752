import type { Sql } from "postgres";

/** PostgreSQL's count of rows inserted into each city table so far, at one instant. */
export interface InsertCounters {
  readonly at: number;
  readonly byCity: ReadonlyMap<string, number>;
}

/** Rows stored per second: now, per city, and over the last minutes for the chart. */
export interface RowsStored {
  /** Mean over the last RATE_WINDOW_MS; null until two samples are at least a refresh apart. */
  readonly perSecond: number | null;
  readonly perCity: Readonly<Record<string, number>>;
  /** [seconds since epoch, rows per second] per refresh, oldest first. */
  readonly history: readonly (readonly [number, number])[];
}

/**
 * Reads the insert counters (pg_stat_user_tables.n_tup_ins) of every leaf partition under each
 * city table, summed per city. Counting rows by ingested_at would scan every table (it has no
 * index, on purpose: it would slow the sink); the counters cost nothing and stay exact for
 * committed inserts. PostgreSQL publishes a backend's counts when it goes idle, at most once a
 * second, so the figure trails the sink by a second or so. pg_partition_tree covers city tables
 * later split by month.
 */
export async function readInsertCounters(sql: Sql, now = Date.now): Promise<InsertCounters> {
  const rows = await sql<{ city_table: string; inserted: string }[]>`
    select city.relname as city_table, coalesce(sum(s.n_tup_ins), 0)::text as inserted
    from pg_inherits i
    join pg_class city on city.oid = i.inhrelid
    cross join lateral pg_partition_tree(city.oid) leaf
    left join pg_stat_user_tables s on s.relid = leaf.relid
    where i.inhparent = to_regclass('weather_readings') and leaf.isleaf
    group by city.relname`;
  return {
    at: now(),
    byCity: new Map(
      rows.map((row) => [row.city_table.replace(/^weather_readings_/, ""), Number(row.inserted)]),
    ),
  };
}

const RATE_WINDOW_MS = 10_000;
const HISTORY_MS = 15 * 60_000;

/**
 * Turns successive counter samples into rates. A counter that went down (statistics reset, server
 * restarted) starts afresh instead of producing a negative rate.
 */
export class InsertRate {
  private samples: InsertCounters[] = [];
  private history: [number, number][] = [];

  add(sample: InsertCounters): RowsStored {
    const previous = this.samples.at(-1);
    if (previous && total(sample) < total(previous)) {
      this.samples = [];
    } else if (previous && sample.at > previous.at) {
      const rate = (total(sample) - total(previous)) / ((sample.at - previous.at) / 1000);
      this.history.push([Math.round(sample.at / 1000), rate]);
    }
    this.samples.push(sample);
    this.samples = this.samples.filter((s) => s.at >= sample.at - RATE_WINDOW_MS);
    this.history = this.history.filter(([t]) => t * 1000 >= sample.at - HISTORY_MS);
    return this.current();
  }

  current(): RowsStored {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at === first.at) return { perSecond: null, perCity: {}, history: [] };
    const seconds = (last.at - first.at) / 1000;
    const perCity: Record<string, number> = {};
    for (const [city, count] of last.byCity) {
      // A city table that appeared within the window has no starting point yet.
      perCity[city] = (count - (first.byCity.get(city) ?? count)) / seconds;
    }
    return { perSecond: (total(last) - total(first)) / seconds, perCity, history: [...this.history] };
  }
}

function total(sample: InsertCounters): number {
  let sum = 0;
  for (const count of sample.byCity.values()) sum += count;
  return sum;
}
