import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dropDatabaseIfExists } from "@weather/db";
import { deadLetterTopicOf, deleteReadingSubjects } from "@weather/schema";
import { deleteTopicsIfPresent, readConnectionSettings } from "@weather/service-kit";
import { Kafka, logLevel } from "kafkajs";

/**
 * Names of one test run: its own database and topic, so runs (and turbo's parallel packages)
 * on the shared stack never meet. cleanup() removes whatever the run may have created.
 */
export function testEnvironment(label: string) {
  const settings = readConnectionSettings(process.env);
  const id = `${label}_${randomUUID().slice(0, 8)}`;
  const databaseUrl = new URL(settings.databaseUrl);
  databaseUrl.pathname = `/weather_test_${id}`;
  const topic = `bootstrap-test-${id.replaceAll("_", "-")}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl.toString(),
    READINGS_TOPIC: topic,
    READINGS_PARTITIONS: "3",
    LOG_LEVEL: "info",
  };
  return {
    settings,
    topic,
    databaseUrl: databaseUrl.toString(),
    env,
    async cleanup() {
      const admin = new Kafka({
        clientId: "bootstrap-test-cleanup",
        brokers: [...settings.kafkaBrokers],
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        await deleteTopicsIfPresent(admin, [topic, deadLetterTopicOf(topic)]);
      } finally {
        await admin.disconnect();
      }
      await deleteReadingSubjects(settings.schemaRegistryUrl, topic);
      await dropDatabaseIfExists(databaseUrl.toString());
    },
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

const appDir = fileURLToPath(new URL("..", import.meta.url));

/** Runs bootstrap as operators do, as its own process, with these variables on top of ours. */
export function runBootstrapProcess(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@weather/source", "src/main.ts", ...args], {
      cwd: appDir,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const errorLines = stderr
        .split("\n")
        .filter((line) => line.trim() !== "" && !/Warning|--trace-warnings/.test(line));
      resolve({ code, stdout, errorLines });
    });
  });
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
