import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSummary, summarizeReports, summaryPassed, type TestRunSummary } from "./test-summary.ts";

const packageDir = join(import.meta.dirname, "..");
const vitestCli = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

/**
 * A workspace member whose test files are written here and run by a real vitest, which writes the
 * JSON report the summary reads. It lives inside this package so its files resolve vitest.
 */
function runMember(root: string, name: string, files: Record<string, string>): string {
  const member = join(root, name);
  mkdirSync(member, { recursive: true });
  for (const [file, source] of Object.entries(files)) writeFileSync(join(member, file), source);
  const run = spawnSync(
    process.execPath,
    [
      vitestCli,
      "run",
      "--root",
      member,
      "--reporter=json",
      `--outputFile=${join(member, "reports", "vitest.json")}`,
    ],
    { encoding: "utf8", env: { ...process.env, CI: "true" } },
  );
  if (run.error) throw run.error;
  return member;
}

describe("the test run's closing summary", () => {
  let root: string;
  let summary: TestRunSummary;

  beforeAll(() => {
    root = mkdtempSync(join(packageDir, ".summary-test-"));
    const passing = runMember(root, "healthy", {
      "ok.test.ts": `import { it, expect } from "vitest";\nit("adds", () => expect(1 + 1).toBe(2));\nit.skip("later", () => {});\n`,
    });
    const broken = runMember(root, "broken", {
      "setup.test.ts": [
        `import { beforeAll, describe, it, expect } from "vitest";`,
        `describe("a suite whose set-up fails", () => {`,
        `  beforeAll(() => { throw new Error("the stack is not up"); });`,
        `  it("would check one thing", () => expect(true).toBe(true));`,
        `  it("would check another", () => expect(true).toBe(true));`,
        `});`,
      ].join("\n"),
      "fine.test.ts": `import { it, expect } from "vitest";\nit("still runs", () => expect(2).toBe(2));\n`,
    });
    const unloadable = runMember(root, "unloadable", {
      "import.test.ts": `import "./does-not-exist.ts";\nimport { it } from "vitest";\nit("never", () => {});\n`,
    });
    summary = summarizeReports(root, [passing, broken, unloadable, join(root, "never-ran")]);
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("counts a test file that fails in its set-up as failed, not as skipped", () => {
    expect(summary.passed).toBe(2);
    expect(summary.suitesFailed).toBe(2);
    // The set-up failure and the file that could not be imported; the real skip stays a skip.
    expect(summary.failed).toBe(2);
    expect(summary.skipped).toBe(1);
    // The unloadable file was never collected, so vitest knows none of its tests.
    expect(summary.notRun).toBe(2);
    expect(summary.failures).toContain(
      "broken/setup.test.ts (failed before its tests ran: a hook failed (beforeAll/afterAll); its error is in the member's output above)",
    );
    expect(summary.failures.join("\n")).toMatch(
      /unloadable\/import\.test\.ts \(failed before its tests ran: Cannot find module '\.\/does-not-exist\.ts'/,
    );
  });

  it("fails the run and says so in its closing line", () => {
    expect(summaryPassed(summary)).toBe(false);
    const lines = formatSummary(summary);
    expect(lines.at(-1)).toBe(
      "tests: 2 passed, 2 failed (2 test files failed in set-up, 2 tests not run), 1 skipped across 3 workspace members",
    );
    expect(lines).toContain("  no test report from: never-ran (their tests did not run)");
  });
});
