/**
 * Totals the JSON reports every workspace member's vitest run writes (reports/vitest.json), so a
 * test run ends with one line that says how many tests ran and which failed, whatever turbo printed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

const root = join(import.meta.dirname, "..");
/**
 * The workspace members, as pnpm-workspace.yaml lists them ("group/*" or a folder), so a new member
 * is counted without editing this file. tests/reliability runs in its own `turbo run
 * test:reliability`; test-all.sh runs it before this totals every report.
 */
function workspaceMembers(): string[] {
  const manifest = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = /^packages:\n((?:\s+(?:-.*|#.*)\n)+)/m.exec(manifest)?.[1] ?? "";
  const patterns = [...block.matchAll(/^\s+-\s+["']?([^"'\s]+)["']?/gm)].map((m) => m[1] ?? "");
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [join(root, pattern)];
    const group = join(root, pattern.slice(0, -2));
    return existsSync(group) ? readdirSync(group).map((name) => join(group, name)) : [];
  });
}

const members = workspaceMembers().filter((member) => existsSync(join(member, "package.json")));

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];
const missing: string[] = [];

/** A member's reports: reports/vitest.json, and any other run's reports/vitest-<run>.json (test:cluster). */
function reportsOf(member: string): string[] {
  const dir = join(member, "reports");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^vitest(-[\w-]+)?\.json$/.test(name))
    .map((name) => join(dir, name));
}

for (const member of members) {
  const files = reportsOf(member);
  if (!files.some((file) => basename(file) === "vitest.json")) missing.push(relative(root, member));
  for (const file of files) countReport(file);
}

function countReport(file: string): void {
  const report = JSON.parse(readFileSync(file, "utf8")) as VitestReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests;
  for (const result of report.testResults) {
    for (const assertion of result.assertionResults) {
      if (assertion.status === "failed")
        failures.push(`${relative(root, result.name)} > ${assertion.fullName}`);
    }
  }
}

for (const failure of failures) console.log(`  FAILED ${failure}`);
if (missing.length > 0) console.log(`  no test report from: ${missing.join(", ")} (their tests did not run)`);
console.log(
  `tests: ${passed} passed, ${failed} failed, ${skipped} skipped across ${members.length - missing.length} workspace members`,
);
process.exitCode = failed > 0 || missing.length > 0 ? 1 : 0;
