import { defineConfig, mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

// Each step is a `pnpm --filter ... start`, as a user types it: seconds each.
export default mergeConfig(sharedVitestConfig, defineConfig({ test: { testTimeout: 180_000 } }));
