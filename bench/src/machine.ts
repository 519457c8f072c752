import { cpus, loadavg, totalmem } from "node:os";
import { maintenanceUrlOf } from "@weather/db";
import { kafkaVersion } from "@weather/infra";
import postgres from "postgres";

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kafka: string;
  readonly postgres: string;
  readonly date: string;
}

/**
 * The server's version is asked of its maintenance database: the bench makes databases of its own
 * and never needs the one DATABASE_URL names (on a fresh machine bootstrap has not created it yet).
 */
export async function describeMachine(databaseUrl: string): Promise<Machine> {
  const url = maintenanceUrlOf(databaseUrl);
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  let server = "unknown";
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    server = row?.version ?? server;
  } catch (error) {
    const { host, port } = new URL(url);
    throw new Error(
      `PostgreSQL at ${host}:${port} did not answer (${(error as Error).message}); start it with pnpm stack up, or set DATABASE_URL`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kafka: kafkaVersion(),
    postgres: server,
    date: new Date().toISOString(),
  };
}

/** The 1-minute load average, sampled while the bench runs: how busy the shared machine was. */
export interface LoadSamples {
  readonly samples: readonly number[];
  stop(): void;
}

export function sampleLoad(everyMs = 10_000): LoadSamples {
  const samples = [loadavg()[0] ?? Number.NaN];
  const timer = setInterval(() => samples.push(loadavg()[0] ?? Number.NaN), everyMs);
  timer.unref();
  return { samples, stop: () => clearInterval(timer) };
}
