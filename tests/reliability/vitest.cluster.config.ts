import { mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

/**
 * The three-broker scenarios (cluster/*.test.ts), run by `test:cluster` (src/run-cluster-task.ts),
 * which starts the cluster first and names it in KAFKA_BROKERS. One file at a time, as they kill
 * and restart the cluster's nodes.
 */
const config = mergeConfig(sharedVitestConfig, {
  test: {
    include: ["cluster/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 240_000,
    teardownTimeout: 240_000,
  },
});
// Replaced, not merged: its own JSON report beside the reliability suite's reports/vitest.json.
config.test = {
  ...config.test,
  reporters: ["default", ["json", { outputFile: "reports/vitest-cluster.json" }]],
};
export default config;
