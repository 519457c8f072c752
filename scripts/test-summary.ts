/**
 * The test run's closing line (see @weather/test-support's test-summary.ts): every workspace
 * member's vitest report totalled; exits 1 on any failure, including a test file that failed
 * before its tests ran and a member that wrote no report.
 */
import { join } from "node:path";
import { formatSummary, summarizeReports, summaryPassed, workspaceMembers } from "@weather/test-support";

const root = join(import.meta.dirname, "..");
const summary = summarizeReports(root, workspaceMembers(root));
for (const line of formatSummary(summary)) console.log(line);
process.exitCode = summaryPassed(summary) ? 0 : 1;
