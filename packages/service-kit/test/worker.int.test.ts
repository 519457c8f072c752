import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../src/errors.ts";

const demo = fileURLToPath(new URL("./fixtures/demo-worker.ts", import.meta.url));

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(process.execPath, ["--conditions=@weather/source", demo, ...args], {
    env: { ...process.env, LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ended = once(child, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, ended };
}

const run = (args: string[], env: Record<string, string> = {}) => start(args, env).ended;

async function untilSeen(child: ChildProcess, text: string): Promise<void> {
  let seen = "";
  await new Promise<void>((resolve) =>
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    }),
  );
}

const untilReady = (child: ChildProcess) => untilSeen(child, "ready\n");

describe("runWorker: one life cycle and one exit-code table for every worker", () => {
  it("prints --help generated from the settings, also after the -- npm users type", async () => {
    for (const args of [["--help"], ["--", "--help"], ["-h"]]) {
      const { code, stdout } = await run(args);
      expect(code).toBe(EXIT_CODES.OK);
      expect(stdout).toContain("Usage: demo [options]");
      expect(stdout).toContain("--end HOW, DEMO_END");
      expect(stdout).toContain("Logging:\n  LOG_LEVEL");
    }
  });

  it("exits 2 with one line naming every bad setting, before doing anything", async () => {
    const { code, stderr, stdout } = await run(["--end", "never", "--bogus"]);
    expect(code).toBe(EXIT_CODES.CONFIGURATION);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^demo: invalid configuration: command line: Unknown option '--bogus'/);
    expect(stdout).not.toContain("running");
  });

  it("reads the logging settings like any other: a bad LOG_LEVEL or LOG_FORMAT is one line and exit 2", async () => {
    for (const [env, expected] of [
      [{ LOG_LEVEL: "verbose" }, 'demo: invalid configuration: LOG_LEVEL: "verbose": expected one of fatal,'],
      [{ LOG_FORMAT: "xml" }, 'demo: invalid configuration: LOG_FORMAT: "xml": expected json or pretty'],
    ] as const) {
      const { code, stderr, stdout } = await run([], env);
      expect(code).toBe(EXIT_CODES.CONFIGURATION);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(expected);
      expect(stdout).not.toContain("running");
    }
  });

  it("logs at the level LOG_LEVEL names", async () => {
    const quiet = await run([], { LOG_LEVEL: "warn" });
    expect(quiet.code).toBe(EXIT_CODES.OK);
    expect(quiet.stdout).not.toContain("running");
    const chatty = await run([], { LOG_LEVEL: "INFO" });
    expect(chatty.stdout).toContain("running");
  });

  it("exits 3 with what failed, where and what to try when a dependency is down", async () => {
    const { code, stderr } = await run(["--end", "outage"]);
    expect(code).toBe(EXIT_CODES.DEPENDENCY_UNAVAILABLE);
    expect(stderr.trim()).toBe("demo: Kafka unavailable: connect ECONNREFUSED; hint: start it");
  });

  it("exits 1 on a bug, with the stack in the log and one line on stderr", async () => {
    const { code, stderr, stdout } = await run([], { DEMO_END: "bug" });
    expect(code).toBe(EXIT_CODES.BUG);
    expect(stderr.trim()).toBe(
      "demo: unexpected error (a bug; the log has its stack): undefined is not a function",
    );
    const fatal = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; err?: { stack?: string } })
      .find((entry) => entry.level === 60);
    expect(fatal?.err?.stack).toContain("demo-worker.ts");
  });

  it("finishes the work in flight on SIGTERM and exits 0", async () => {
    const { child, ended } = start(["--end", "wait"]);
    await untilReady(child);
    child.kill("SIGTERM");
    const { code, stdout } = await ended;
    expect(code).toBe(EXIT_CODES.OK);
    expect(stdout).toContain("finished the work in flight");
  });

  it("exits 130 on a second signal, and 1 when the stop outlasts its bound", async () => {
    const impatient = start(["--end", "stuck"]);
    await untilReady(impatient.child);
    impatient.child.kill("SIGINT");
    // Signals sent together may arrive as one: send the second once the first was handled.
    await untilSeen(impatient.child, "SIGINT: stopping");
    impatient.child.kill("SIGINT");
    expect((await impatient.ended).code).toBe(EXIT_CODES.INTERRUPTED);

    const stuck = start(["--end", "stuck"]);
    await untilReady(stuck.child);
    stuck.child.kill("SIGTERM");
    const { code, stdout } = await stuck.ended;
    expect(code).toBe(EXIT_CODES.BUG);
    expect(stdout).toContain("could not stop within 1000 ms of SIGTERM");
  });
});
