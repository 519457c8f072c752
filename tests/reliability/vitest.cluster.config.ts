import { mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

/**
 * The three-broker scenarios (cluster/*.test.ts), run by `test:cluster` (src/run-cluster-task.ts),
 * which starts the cluster first and names it in KAFKA_BROKERS. One file at a time, as they kill
 * and restart the cluster's nodes.
 */
const merged = mergeConfig(sharedVitestConfig, {
  test: {
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 240_000,
    teardownTimeout: 240_000,
  },
});
// Replaced, not merged (mergeConfig concatenates arrays): only the cluster scenarios, and their
// own JSON report beside the reliability suite's reports/vitest.json.
export default {
  ...merged,
  test: {
    ...merged.test,
    include: ["cluster/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: "reports/vitest-cluster.json" }]],
  },
};
