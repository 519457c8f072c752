import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Sql } from "postgres";

/** Clock ticks per second of /proc/<pid>/stat's times (getconf CLK_TCK; 100 on Linux everywhere). */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time a process has used so far, user plus system, in microseconds (from /proc/<pid>/stat,
 * fields utime and stime, in clock ticks: 10 ms resolution); undefined once the process is gone.
 */
export async function cpuMicrosOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of sets of processes from a starting point on: named groups of known pids (the
 * worker's node processes, the brokers' JVMs) and the PostgreSQL backends serving the workers
 * (PostgreSQL runs on this machine, so their /proc entries are readable). Backends are found by
 * database and application name in pg_stat_activity at each sample; one first seen after the start
 * counts from zero (its connection set-up is then counted: a few ms).
 */
export class CpuMeter {
  /** Group of each pid ("backends" for PostgreSQL's). */
  private readonly groupOf = new Map<number, string>();
  private readonly start = new Map<number, number>();
  private readonly latest = new Map<number, number>();
  private readonly sql: Sql;
  private readonly database: string;
  private readonly applicationName: string;

  private constructor(
    sql: Sql,
    processes: Readonly<Record<string, readonly number[]>>,
    database: string,
    applicationName: string,
  ) {
    this.sql = sql;
    this.database = database;
    this.applicationName = applicationName;
    for (const [group, pids] of Object.entries(processes))
      for (const pid of pids) this.groupOf.set(pid, group);
  }

  /** Starts counting now. `applicationName` is a LIKE pattern, e.g. 'pg-sink %'. */
  static async start(
    sql: Sql,
    options: {
      readonly processes?: Readonly<Record<string, readonly number[]>>;
      readonly database: string;
      readonly applicationName: string;
    },
  ): Promise<CpuMeter> {
    const meter = new CpuMeter(sql, options.processes ?? {}, options.database, options.applicationName);
    await meter.sample(true);
    return meter;
  }

  private async backendPids(): Promise<number[]> {
    const rows = await this.sql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = ${this.database}
      and application_name like ${this.applicationName}`.catch(() => []);
    return rows.map((row) => row.pid);
  }

  /** Reads every process's CPU time now; call it often enough that no backend comes and goes unseen. */
  async sample(first = false): Promise<void> {
    for (const pid of await this.backendPids()) if (!this.groupOf.has(pid)) this.groupOf.set(pid, "backends");
    await Promise.all(
      [...this.groupOf.keys()].map(async (pid) => {
        const micros = await cpuMicrosOf(pid);
        if (micros === undefined) return;
        if (!this.start.has(pid))
          this.start.set(pid, first || this.groupOf.get(pid) !== "backends" ? micros : 0);
        this.latest.set(pid, micros);
      }),
    );
  }

  /** CPU microseconds since the start, per group: the named ones and "backends". */
  used(): Record<string, number> {
    const used: Record<string, number> = { backends: 0 };
    for (const group of this.groupOf.values()) used[group] ??= 0;
    for (const [pid, latest] of this.latest) {
      const group = this.groupOf.get(pid) ?? "backends";
      used[group] = (used[group] ?? 0) + latest - (this.start.get(pid) ?? 0);
    }
    return used;
  }
}
