export { collectTopicToEnd, deleteReadingSubjects, deleteTopicsIfPresent } from "./cleanup.ts";
export { freePort } from "./ports.ts";
export { seededUuid, shuffled, suiteSeed } from "./seeded.ts";
export {
  formatSummary,
  summarizeReports,
  summaryPassed,
  type TestRunSummary,
  type VitestReport,
  workspaceMembers,
} from "./test-summary.ts";
export {
  type App,
  type Exit,
  exitWithin,
  killAllWorkers,
  type LogLine,
  parseLogLines,
  REPO_ROOT,
  spawnWorker,
  spawnWorkerToExit,
  stopWorker,
  tail,
  type Worker,
} from "./workers.ts";
export {
  removeWorld,
  type TestSettings,
  testAdmin,
  testSettings,
  type WorldNames,
  worldEnv,
  worldNames,
} from "./worlds.ts";
