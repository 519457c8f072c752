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
 * CPU time of a set of processes from a starting point on: the worker's node process and the
 * PostgreSQL backends serving it (PostgreSQL runs on this machine, so their /proc entries are
 * readable). Backends are found by application name in pg_stat_activity at each sample; one first
 * seen after the start counts from zero (its connection set-up is then counted: a few ms).
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  private readonly latest = new Map<number, number>();

  private readonly sql: Sql;
  private readonly nodePid: number | undefined;
  private readonly database: string;
  private readonly applicationName: string;

  private constructor(sql: Sql, nodePid: number | undefined, database: string, applicationName: string) {
    this.sql = sql;
    this.nodePid = nodePid;
    this.database = database;
    this.applicationName = applicationName;
  }

  /** Starts counting now. `applicationName` is a LIKE pattern, e.g. 'pg-sink %'. */
  static async start(
    sql: Sql,
    nodePid: number | undefined,
    database: string,
    applicationName: string,
  ): Promise<CpuMeter> {
    const meter = new CpuMeter(sql, nodePid, database, applicationName);
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
    const pids = [...(this.nodePid === undefined ? [] : [this.nodePid]), ...(await this.backendPids())];
    await Promise.all(
      pids.map(async (pid) => {
        const micros = await cpuMicrosOf(pid);
        if (micros === undefined) return;
        if (!this.start.has(pid)) this.start.set(pid, first ? micros : 0);
        this.latest.set(pid, micros);
      }),
    );
  }

  /** CPU microseconds since the start: the node process's and the backends' together. */
  used(): { nodeMicros: number; backendMicros: number } {
    let nodeMicros = 0;
    let backendMicros = 0;
    for (const [pid, latest] of this.latest) {
      const spent = latest - (this.start.get(pid) ?? 0);
      if (pid === this.nodePid) nodeMicros += spent;
      else backendMicros += spent;
    }
    return { nodeMicros, backendMicros };
  }
}
