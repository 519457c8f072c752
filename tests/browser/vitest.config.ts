import { defineConfig, mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

// Chromium is installed (once per machine) before any test starts; the pipeline under the page is
// bootstrapped and filled in beforeAll, which takes tens of seconds on a shared machine.
export default mergeConfig(
  sharedVitestConfig,
  defineConfig({
    test: { globalSetup: ["test/chromium.ts"], hookTimeout: 300_000, testTimeout: 120_000 },
  }),
);
