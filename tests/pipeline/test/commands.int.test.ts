import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { removeWorld, worldEnv, worldNames } from "@weather/test-support";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const WORKERS = ["bootstrap", "sensor-producer", "pg-sink", "report", "dashboard"] as const;

/** Runs a command in the repository as a user would, with the test's environment plus `env`. */
function run(command: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 170_000,
  });
  if (result.error) throw result.error;
  return result;
}

// What a terminal shows, without its colours.
const plain = (text: string) => stripVTControlCharacters(text).replaceAll("\r", "");

/** The services each worker talks to: its --help lists their settings, and no others. */
const READS: Record<(typeof WORKERS)[number], { readonly database: boolean; readonly registry: boolean }> = {
  bootstrap: { database: true, registry: true },
  "sensor-producer": { database: false, registry: true },
  "pg-sink": { database: true, registry: true },
  report: { database: true, registry: false },
  dashboard: { database: true, registry: false },
};

describe("the workers as users start them", () => {
  it.each(WORKERS)("pnpm --filter %s start -- --help prints the settings it reads and exits 0", (worker) => {
    const result = run("pnpm", ["-s", "--filter", worker, "start", "--", "--help"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Usage: ${worker}`);
    expect(result.stdout).toContain("LOG_LEVEL");
    expect(result.stdout.includes("DATABASE_URL"), "DATABASE_URL").toBe(READS[worker].database);
    expect(result.stdout.includes("SCHEMA_REGISTRY_URL"), "SCHEMA_REGISTRY_URL").toBe(READS[worker].registry);
  });

  it.each(WORKERS)("LOG_LEVEL=verbose pnpm --filter %s start ends with one line and exit 2", (worker) => {
    const result = run("pnpm", ["-s", "--filter", worker, "start"], { LOG_LEVEL: "verbose", LOG_FORMAT: "" });
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      `${worker}: invalid configuration: LOG_LEVEL: "verbose": expected one of fatal, error, warn, info, debug, trace, silent`,
    ]);
  });

  it("LOG_FORMAT=xml ends with one line and exit 2 too", () => {
    const result = run("pnpm", ["-s", "--filter", "report", "start"], { LOG_FORMAT: "xml" });
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stderr.trim()).toBe(
      'report: invalid configuration: LOG_FORMAT: "xml": expected json or pretty',
    );
  });
});

describe("scripts/pipeline-steps.sh on a terminal", () => {
  const names = worldNames("pipeline-test", "steps");
  afterAll(() => removeWorld(names));

  it("runs every step, shows 134 readings per city, and prints no error-level line on a healthy run", () => {
    // `script` gives the steps a real terminal, so the workers log as they do for a person.
    const result = run("script", ["-qec", "bash scripts/pipeline-steps.sh", "/dev/null"], {
      ...worldEnv(names),
      SINK_HTTP_PORT: "0",
      SINK_BATCH_MAX_WAIT_MS: "100",
      LOG_FORMAT: "",
      LOG_LEVEL: "info",
    });
    const output = plain(result.stdout + result.stderr);
    console.log(output);
    expect(result.status, output).toBe(0);
    expect(output).toContain("== 5/5 report: what PostgreSQL holds");
    expect(output).toContain("winnipeg  (table weather_readings_winnipeg: 134 rows from 1 station)");
    expect(output).toContain("vancouver  (table weather_readings_vancouver: 134 rows from 1 station)");
    // Pretty lines, one per event ("12:00:00.000 INFO (pg-sink): ..."), not JSON.
    expect(output).toMatch(/INFO \(pg-sink\): caught up/);
    expect(output).not.toMatch(/^\{"level"/m);
    const alarming = output.split("\n").filter((line) => /\b(ERROR|FATAL)\b/.test(line));
    expect(alarming).toEqual([]);
  });
});
