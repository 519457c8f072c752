export {
  formatSummary,
  summarizeReports,
  summaryPassed,
  type TestRunSummary,
  type VitestReport,
  workspaceMembers,
} from "./test-summary.ts";
