import { cpus, totalmem } from "node:os";
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

export async function describeMachine(databaseUrl: string): Promise<Machine> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let server = "unknown";
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    server = row?.version ?? server;
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
