import { defineConfig, mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

// Deploying four workers and running two pipelines takes tens of seconds, mostly in beforeAll.
export default mergeConfig(
  sharedVitestConfig,
  defineConfig({ test: { hookTimeout: 240_000, testTimeout: 180_000 } }),
);
