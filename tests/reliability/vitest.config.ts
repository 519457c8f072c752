import { mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

/**
 * One file at a time: these tests stop and start the stack's Kafka and registry, which would pull
 * the ground from under any other file running beside them. Timeouts are generous because a
 * SIGKILLed sink's partitions stay with the dead member for the group's session timeout, and a
 * JVM service takes a while to come back on a two-core machine.
 */
export default mergeConfig(sharedVitestConfig, {
  test: {
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    teardownTimeout: 180_000,
  },
});
