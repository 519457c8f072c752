/**
 * Totals the JSON reports every workspace member's vitest run writes (reports/vitest.json), so a
 * test run ends with one line that says how many tests ran and which failed, whatever turbo printed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

/** The part of vitest's JSON report (jest-compatible) the summary reads. */
export interface VitestReport {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly testResults: readonly {
    readonly name: string;
    /** "failed" also when the file failed before any test ran (import error, beforeAll threw). */
    readonly status: string;
    readonly message?: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string }[];
  }[];
}

export interface TestRunSummary {
  readonly passed: number;
  /** Failed tests, plus one per test file that failed outside any test (see suitesFailed). */
  readonly failed: number;
  readonly skipped: number;
  /** Test files that failed to load or in their set-up, so their tests never ran. */
  readonly suitesFailed: number;
  /** Tests of those files: vitest reports them as skipped, but they did not run. */
  readonly notRun: number;
  /** One line per failure: the test's name, or the file and why it could not run. */
  readonly failures: readonly string[];
  /** Members that wrote no report: their tests did not run at all. */
  readonly missing: readonly string[];
  readonly members: number;
}

/**
 * The workspace members, as pnpm-workspace.yaml lists them ("group/*" or a folder), so a new member
 * is counted without editing anything.
 */
export function workspaceMembers(root: string): string[] {
  const manifest = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = /^packages:\n((?:\s+(?:-.*|#.*)\n)+)/m.exec(manifest)?.[1] ?? "";
  const patterns = [...block.matchAll(/^\s+-\s+["']?([^"'\s]+)["']?/gm)].map((m) => m[1] ?? "");
  return patterns
    .flatMap((pattern) => {
      if (!pattern.endsWith("/*")) return [join(root, pattern)];
      const group = join(root, pattern.slice(0, -2));
      return existsSync(group) ? readdirSync(group).map((name) => join(group, name)) : [];
    })
    .filter((member) => existsSync(join(member, "package.json")));
}

/**
 * A member's reports: reports/vitest.json, and the report of any other run of its tests,
 * reports/vitest-<run>.json (tests/reliability's test:cluster writes vitest-cluster.json).
 */
function reportsOf(member: string): string[] {
  const dir = join(member, "reports");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^vitest(-[\w-]+)?\.json$/.test(name))
    .map((name) => join(dir, name));
}

/** Adds up the reports of `members` (folders holding reports/vitest*.json), naming every failure. */
export function summarizeReports(root: string, members: readonly string[]): TestRunSummary {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let suitesFailed = 0;
  let notRun = 0;
  const failures: string[] = [];
  const missing: string[] = [];
  const reports = members.flatMap((member) => {
    const files = reportsOf(member);
    if (!files.some((file) => basename(file) === "vitest.json")) missing.push(relative(root, member));
    return files;
  });
  for (const file of reports) {
    const report = JSON.parse(readFileSync(file, "utf8")) as VitestReport;
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests;
    for (const result of report.testResults) {
      const testFile = relative(root, result.name);
      const failedTests = result.assertionResults.filter((a) => a.status === "failed");
      for (const test of failedTests) failures.push(`${testFile} > ${test.fullName}`);
      if (result.status === "failed" && failedTests.length === 0) {
        // The file failed outside its tests: every test it holds was reported skipped, not run.
        const unrun = result.assertionResults.filter((a) => a.status !== "passed").length;
        suitesFailed += 1;
        failed += 1;
        notRun += unrun;
        skipped -= Math.min(skipped, unrun);
        // vitest's JSON report keeps an import error's message but not a hook's error.
        const reason =
          (result.message ?? "").split("\n")[0]?.trim() ||
          "a hook failed (beforeAll/afterAll); its error is in the member's output above";
        failures.push(`${testFile} (failed before its tests ran: ${reason})`);
      }
    }
  }
  return {
    passed,
    failed,
    skipped,
    suitesFailed,
    notRun,
    failures,
    missing,
    members: members.length - missing.length,
  };
}

/** The closing lines: each failure, then one total. */
export function formatSummary(summary: TestRunSummary): string[] {
  const lines = summary.failures.map((failure) => `  FAILED ${failure}`);
  if (summary.missing.length > 0) {
    lines.push(`  no test report from: ${summary.missing.join(", ")} (their tests did not run)`);
  }
  const suites =
    summary.suitesFailed === 0
      ? ""
      : ` (${summary.suitesFailed} test file${summary.suitesFailed === 1 ? "" : "s"} failed in set-up, ${summary.notRun} tests not run)`;
  lines.push(
    `tests: ${summary.passed} passed, ${summary.failed} failed${suites}, ${summary.skipped} skipped ` +
      `across ${summary.members} workspace members`,
  );
  return lines;
}

export function summaryPassed(summary: TestRunSummary): boolean {
  return summary.failed === 0 && summary.missing.length === 0;
}
