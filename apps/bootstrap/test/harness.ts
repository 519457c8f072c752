import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeWorld, spawnWorkerToExit, testSettings, worldNames } from "@weather/test-support";

/**
 * Names of one test run: its own database and topic, so runs (and turbo's parallel packages)
 * on the shared stack never meet. cleanup() removes whatever the run may have created.
 */
export function testEnvironment(label: string) {
  const names = worldNames("bootstrap-test", label);
  const env: Record<string, string> = {
    DATABASE_URL: names.databaseUrl,
    READINGS_TOPIC: names.topic,
    READINGS_PARTITIONS: "3",
    LOG_LEVEL: "info",
  };
  return {
    settings: testSettings,
    topic: names.topic,
    databaseUrl: names.databaseUrl,
    env,
    cleanup: () => removeWorld(names),
  };
}

/** A STATIONS_FILE adding Toronto, in the catalog's own format. */
export function torontoStationsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), "bootstrap-stations-")), "stations.json");
  writeFileSync(
    path,
    JSON.stringify({
      stations: [
        {
          id: "CYYZ",
          city: "toronto",
          name: "Toronto Pearson International Airport",
          latitude: 43.6772,
          longitude: -79.6306,
          timeZone: "America/Toronto",
          normals: {
            monthlyMeanTempC: [-5.5, -4.5, 0, 7, 13, 18.5, 21.5, 20.5, 16, 9.5, 3.5, -2],
            diurnalRangeC: 9,
            meanWindKmh: 15,
            meanHumidityPct: 72,
          },
        },
      ],
    }),
  );
  return path;
}

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  /** stderr without Node's warnings (kafkajs' TimeoutNegativeWarning on Node 24 is an upstream bug). */
  readonly errorLines: readonly string[];
}

/** Runs bootstrap as operators do, as its own process, with these variables on top of ours. */
export async function runBootstrapProcess(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<ProcessResult> {
  const { exit, worker } = await spawnWorkerToExit("bootstrap", args, env);
  const errorLines = worker
    .stderr()
    .split("\n")
    .filter((line) => line.trim() !== "" && !/Warning|--trace-warnings/.test(line));
  return { code: exit.code, stdout: worker.stdout(), errorLines };
}

/** The summary from bootstrap's structured "bootstrap finished" log line. */
export function summaryFromLog(stdout: string): { created: string[]; found: string[]; conflicts: string[] } {
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; summary?: unknown };
    if (entry.msg === "bootstrap finished") {
      return entry.summary as { created: string[]; found: string[]; conflicts: string[] };
    }
  }
  throw new Error(`no "bootstrap finished" line in:\n${stdout}`);
}
